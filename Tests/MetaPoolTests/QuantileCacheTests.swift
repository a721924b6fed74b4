// The quantile memo (QuantileCache): a hit gives the number a root search gives, under eviction and
// from several tasks at once. Reference values from R 4 (qt, qchisq, options(digits = 17)).

import Testing
@testable import MetaPool

@Suite struct QuantileCacheTests {
    /// R: qt(0.975, 13), qt(0.025, 13), qchisq(0.975, 13), qchisq(0.025, 13), qt(0.95, 4.5).
    static let reference: [(name: String, value: @Sendable () -> Double, expected: Double)] = [
        ("qt(0.975, 13)", { StudentT(degreesOfFreedom: 13).survivalQuantile(0.025) }, 2.1603686564627917),
        ("qt(0.025, 13)", { StudentT(degreesOfFreedom: 13).quantile(0.025) }, -2.1603686564627922),
        ("qchisq(0.975, 13)", { ChiSquared(degreesOfFreedom: 13).survivalQuantile(0.025) }, 24.7356048849315364),
        ("qchisq(0.025, 13)", { ChiSquared(degreesOfFreedom: 13).quantile(0.025) }, 5.0087505118103310),
        ("qt(0.95, 4.5)", { StudentT(degreesOfFreedom: 4.5).survivalQuantile(0.05) }, 2.0655758888785236),
    ]

    @Test func repeatedQuantilesMatchRAndEachOther() {
        for (name, value, expected) in Self.reference {
            let first = value()
            #expect(abs(first - expected) <= 1e-13 * abs(expected), "\(name): \(first)")
            // A second call is a hit; it must be the same bits as the first.
            #expect(value().bitPattern == first.bitPattern, "\(name)")
        }
    }

    /// Thousands of other keys pass through the 256 slots; every key still gets its own quantile
    /// (a slot never answers for a key it does not hold).
    @Test func evictionNeverMixesKeys() {
        var first: [Double] = []
        for df in 1...600 { first.append(StudentT(degreesOfFreedom: Double(df)).survivalQuantile(0.025)) }
        for df in 1...600 { first.append(ChiSquared(degreesOfFreedom: Double(df)).quantile(0.025)) }
        var again: [Double] = []
        for df in 1...600 { again.append(StudentT(degreesOfFreedom: Double(df)).survivalQuantile(0.025)) }
        for df in 1...600 { again.append(ChiSquared(degreesOfFreedom: Double(df)).quantile(0.025)) }
        #expect(first.map(\.bitPattern) == again.map(\.bitPattern))
        // The t quantiles fall towards the normal's 1.959963984540054 as df grows; χ² ones rise.
        #expect(zip(first[0..<599], first[1..<600]).allSatisfy { $0 > $1 } && first[599] > 1.959963984540054)
        #expect(zip(first[600..<1199], first[601..<1200]).allSatisfy { $0 < $1 })
        for (name, value, expected) in Self.reference {
            #expect(abs(value() - expected) <= 1e-13 * abs(expected), "\(name)")
        }
    }

    /// Eight tasks asking for the same 40 quantiles in different orders get the same bits.
    @Test func concurrentCallersAgree() async {
        let keys = (1...40).map { Double($0) }
        let serial = keys.map { StudentT(degreesOfFreedom: $0 + 0.5).survivalQuantile(0.025) }
        let results = await withTaskGroup(of: [Double].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var out = [Double](repeating: 0, count: keys.count)
                    for round in 0..<50 {
                        for j in keys.indices {
                            let i = (j * (task + 1) + round) % keys.count
                            out[i] = StudentT(degreesOfFreedom: keys[i] + 0.5).survivalQuantile(0.025)
                        }
                    }
                    return out
                }
            }
            var all: [[Double]] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 8)
        for r in results { #expect(r.map(\.bitPattern) == serial.map(\.bitPattern)) }
    }
}
