// libFuzzer harness (c): pooling on arbitrary numbers. The first byte picks the confidence level;
// then every 16 bytes are one study, yi and vi as raw IEEE-754 bit patterns (so NaN, ±infinity,
// subnormals, ±0 and values near the largest Double all occur). Every model (FE DL REML ML PM HE
// SJ HS EB × wald t hksj hksj-adhoc), the subgroup analysis (studies split by one bit of their
// yi) and the batch engine either throw a MetaPoolError or return finite numbers.
import FuzzSupport
import Foundation
import MetaPool

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPooling(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size >= 1 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // Levels 0.5 … 0.999 and, for byte 255, a level that is not in (0, 1).
    let level = bytes[0] == 255 ? 1.0 : 0.5 + 0.499 * Double(bytes[0]) / 254
    var yi: [Double] = [], vi: [Double] = []
    var offset = 1
    while offset + 16 <= size && yi.count < 64 {
        var y: UInt64 = 0, v: UInt64 = 0
        for j in 0..<8 {
            y |= UInt64(bytes[offset + j]) << (8 * UInt64(j))
            v |= UInt64(bytes[offset + 8 + j]) << (8 * UInt64(j))
        }
        yi.append(Double(bitPattern: y))
        vi.append(Double(bitPattern: v))
        offset += 16
    }

    if let effects = try? EffectSizes.generic(yi: yi, vi: vi) {
        for method in TauSquaredMethod.allCases {
            for ci in ConfidenceIntervalMethod.allCases {
                if let f = try? MetaAnalysis(effects, method: method, ciMethod: ci, level: level) { Check.fit(f) }
            }
        }
        if let f = try? MetaAnalysis(effects, level: level) { Check.summary(f) }
        // Subgroups: a table with yi, vi (written so they read back exactly) and a group column.
        let rows: [[String?]] = yi.indices.map { i in
            ["\(yi[i])", "\(vi[i])", yi[i].bitPattern & 1 == 0 ? "a" : "b"]
        }
        let table = DataTable(source: "fuzz", columns: ["yi", "vi", "group"], rows: rows)
        for common in [false, true] {
            if let s = try? SubgroupAnalysis(table: table, by: "group", method: .restrictedMaximumLikelihood,
                                             ciMethod: .hartungKnapp, level: level, commonTauSquared: common) {
                Check.subgroups(s)
            }
        }
    }
    // The batch engine validates on its own; every model, including inputs EffectSizes rejects.
    if let analysis = try? BatchAnalysis.Analysis(id: "fuzz", yi: yi, vi: vi) {
        for method in TauSquaredMethod.allCases {
            for ci in ConfidenceIntervalMethod.allCases {
                Check.batch(BatchAnalysis(method: method, ciMethod: ci, level: level).fit(analysis))
            }
        }
    }
    return 0
}

exit(runFuzzer(fuzzPooling))
