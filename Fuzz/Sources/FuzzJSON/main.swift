// libFuzzer harness (b): arbitrary bytes as a JSON array of objects, through the whole pipeline.
// DataTable.read(bytes:) reads JSON when the first non-space byte is `[` or `{`; the harness also
// calls the JSON reader directly, so inputs that do not start that way still reach it.
import FuzzSupport
import Foundation
import MetaPool

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    Check.pipeline(bytes: bytes, source: "fuzz.json")
    if let text = try? DataTable.decodeText(bytes, source: "fuzz.json") {
        _ = try? JSONValue.parse(text, source: "fuzz.json")
        if let table = try? DataTable.readJSON(text, source: "fuzz.json"), let effects = try? EffectSizes(table: table),
           let f = try? MetaAnalysis(effects) {
            Check.fit(f)
        }
        _ = try? BatchAnalysis.analyses(jsonLines: text, source: "fuzz.jsonl")
    }
    return 0
}

exit(runFuzzer(fuzzJSON))
