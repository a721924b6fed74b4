// Distributions against 50-digit mpmath references, and the documented error table.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/distributions/reference.json, written by
// `python3 Tests/Reference/distributions.py`. The worst relative error per function must
// not exceed the bound in Sources/MetaPool/Documentation.docc/Distributions.md, and that
// bound must stay within a factor 10 of what is measured, so the table cannot go stale; a
// table that fails prints the measured one (each error rounded up to one digit) to paste.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct DistributionReference: Decodable {
    struct Case: Decodable {
        var function: String
        var parameters: [Double]
        var x: Double
        var expected: Double
    }
    var cases: [Case]

    static let shared: DistributionReference? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/distributions/reference.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(DistributionReference.self, from: data)
    }()
}

enum DistributionUnderTest {
    /// Evaluates "family.member" with the case's parameters.
    static func evaluate(_ function: String, _ parameters: [Double], _ x: Double) -> Double? {
        let parts = function.split(separator: ".").map(String.init)
        guard parts.count == 2 else { return nil }
        let distribution: any ContinuousDistribution
        switch (parts[0], parameters.count) {
        case ("normal", 0): distribution = Normal.standard
        case ("t", 1): distribution = StudentT(degreesOfFreedom: parameters[0])
        case ("chi2", 1): distribution = ChiSquared(degreesOfFreedom: parameters[0])
        case ("f", 2): distribution = FisherF(numeratorDegreesOfFreedom: parameters[0],
                                              denominatorDegreesOfFreedom: parameters[1])
        default: return nil
        }
        switch parts[1] {
        case "cdf": return distribution.cdf(x)
        case "survival": return distribution.survival(x)
        case "quantile": return distribution.quantile(x)
        case "survivalQuantile": return distribution.survivalQuantile(x)
        default: return nil
        }
    }

    static func relativeError(_ actual: Double, _ expected: Double) -> Double {
        if actual == expected { return 0 }
        if expected == 0 { return abs(actual) }
        return abs(actual - expected) / abs(expected)
    }

    /// The table reports small and large degrees of freedom separately (different algorithms).
    static let largeDegreesOfFreedom = 1e4

    /// Worst relative error per function over the reference cases, for degrees of freedom
    /// up to `largeDegreesOfFreedom` (`large == false`) or above it (`large == true`).
    static func worstErrors(large: Bool) -> [String: (error: Double, at: String)] {
        var worst: [String: (error: Double, at: String)] = [:]
        for c in DistributionReference.shared?.cases ?? []
        where c.parameters.contains(where: { $0 > largeDegreesOfFreedom }) == large {
            let value = evaluate(c.function, c.parameters, c.x) ?? .nan
            let error = value.isNaN ? .infinity : relativeError(value, c.expected)
            if error >= (worst[c.function]?.error ?? -1) {
                worst[c.function] = (error, "\(c.parameters) x=\(c.x): \(value) vs \(c.expected)")
            }
        }
        return worst
    }

    /// The `| function | df ≤ 10⁴ | df > 10⁴ |` rows of the Distributions article, as written
    /// ("—" where no reference case exists); none if the article cannot be read.
    static func documentedRows() -> [String: (small: String, large: String)] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/MetaPool/Documentation.docc/Distributions.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        var rows: [String: (small: String, large: String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3 else { continue }
            rows[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = (cells[1], cells[2])
        }
        return rows
    }

    /// An error rounded up to one significant digit, as the article writes it ("2e-13").
    static func roundedUp(_ error: Double) -> String {
        guard error > 0, error.isFinite else { return error == 0 ? "0" : "\(error)" }
        var exponent = Int(log10(error).rounded(.down))
        var digit = (error / pow(10, Double(exponent))).rounded(.up)
        if digit < 1 { digit = 1 }                     // log10 rounding just below a power of 10
        if digit >= 10 { digit = 1; exponent += 1 }
        return "\(Int(digit))e\(exponent < 0 ? "-" : "+")\(String(format: "%02d", abs(exponent)))"
    }

    /// The table as measured, in the article's format: worst errors rounded up to one digit.
    static func measuredTable() -> String {
        let small = worstErrors(large: false), large = worstErrors(large: true)
        return Set(small.keys).union(large.keys).sorted().map { key in
            "| `\(key)` | \(small[key].map { roundedUp($0.error) } ?? "—") | \(large[key].map { roundedUp($0.error) } ?? "—") |"
        }.joined(separator: "\n")
    }
}

@Suite("Distributions")
struct DistributionTests {
    @Test("reference values are present")
    func referencePresent() throws {
        let reference = try #require(DistributionReference.shared)
        #expect(reference.cases.count > 1000)
        let functions = Set(reference.cases.map(\.function))
        for family in ["normal", "t", "chi2", "f"] {
            for member in ["cdf", "survival", "quantile", "survivalQuantile"] {
                #expect(functions.contains("\(family).\(member)"), "no reference for \(family).\(member)")
            }
        }
    }

    @Test("every function within 1e-12 relative of mpmath")
    func accuracy() {
        for large in [false, true] {
            let worst = DistributionUnderTest.worstErrors(large: large)
            #expect(!worst.isEmpty)
            let tolerance = 1e-12
            for (function, w) in worst.sorted(by: { $0.key < $1.key }) {
                #expect(w.error <= tolerance, "\(function): relative error \(w.error) at \(w.at)")
            }
        }
    }

    @Test("documented error table matches measurement")
    func documentedTable() {
        let documented = DistributionUnderTest.documentedRows()
        #expect(!documented.isEmpty, "no error table in Distributions.md")
        var stale = false
        for large in [false, true] {
            let worst = DistributionUnderTest.worstErrors(large: large)
            #expect(!worst.isEmpty)
            let column = large ? "df > 10⁴" : "df ≤ 10⁴"
            for function in Set(worst.keys).union(documented.keys).sorted() {
                let cell = documented[function].map { large ? $0.large : $0.small }
                switch (worst[function], cell) {
                case (nil, nil):
                    continue
                case (nil, let cell?):
                    // No reference case: the article must say so.
                    if cell != "—" {
                        Issue.record("\(function) (\(column)): the table gives \(cell) but no reference case measures it")
                        stale = true
                    }
                case (let w?, let cell):
                    guard let cell, let bound = Double(cell) else {
                        Issue.record("\(function) (\(column)): measured \(w.error) at \(w.at), but the table gives \(cell ?? "no row")")
                        stale = true
                        continue
                    }
                    #expect(w.error <= bound, "\(function) (\(column)): measured \(w.error) at \(w.at) exceeds documented \(bound)")
                    #expect(bound <= 10 * max(w.error, 1e-16), "\(function) (\(column)): documented \(bound) is stale; measured \(w.error)")
                    stale = stale || w.error > bound || bound > 10 * max(w.error, 1e-16)
                }
            }
        }
        if stale {
            Issue.record("the measured table, to paste into Sources/MetaPool/Documentation.docc/Distributions.md:\n\(DistributionUnderTest.measuredTable())")
        }
    }

    @Test("errors round up to one significant digit as in the article")
    func roundedUp() {
        #expect(DistributionUnderTest.roundedUp(1.0527e-13) == "2e-13")
        #expect(DistributionUnderTest.roundedUp(6.8811e-14) == "7e-14")
        #expect(DistributionUnderTest.roundedUp(9.3e-16) == "1e-15")
        #expect(DistributionUnderTest.roundedUp(1e-15) == "1e-15")
        #expect(DistributionUnderTest.roundedUp(0) == "0")
    }

    @Test("invalid parameters and arguments give NaN, never a trap")
    func invalid() {
        let bad: [any ContinuousDistribution] = [
            Normal(mean: 0, standardDeviation: 0), Normal(mean: .nan, standardDeviation: 1),
            StudentT(degreesOfFreedom: 0), StudentT(degreesOfFreedom: -1), StudentT(degreesOfFreedom: .nan),
            ChiSquared(degreesOfFreedom: 0), ChiSquared(degreesOfFreedom: .infinity),
            FisherF(numeratorDegreesOfFreedom: 0, denominatorDegreesOfFreedom: 1),
            FisherF(numeratorDegreesOfFreedom: 1, denominatorDegreesOfFreedom: -2),
        ]
        for d in bad {
            #expect(d.cdf(1).isNaN && d.survival(1).isNaN && d.quantile(0.5).isNaN && d.survivalQuantile(0.5).isNaN,
                    "\(d)")
        }
        let good: [any ContinuousDistribution] = [Normal.standard, StudentT(degreesOfFreedom: 3),
                                                  ChiSquared(degreesOfFreedom: 2),
                                                  FisherF(numeratorDegreesOfFreedom: 2, denominatorDegreesOfFreedom: 7)]
        for d in good {
            for p in [-0.1, 1.1, Double.nan] {
                #expect(d.quantile(p).isNaN && d.survivalQuantile(p).isNaN, "\(d) p=\(p)")
            }
            #expect(d.cdf(.nan).isNaN && d.survival(.nan).isNaN)
            #expect(d.cdf(.infinity) == 1 && d.survival(.infinity) == 0)
            #expect(d.quantile(1) == .infinity && d.survivalQuantile(0) == .infinity)
        }
        #expect(Normal.standard.quantile(0) == -.infinity)
        #expect(StudentT(degreesOfFreedom: 5).quantile(0) == -.infinity)
        #expect(ChiSquared(degreesOfFreedom: 5).quantile(0) == 0)
        #expect(SpecialFunctions.regularizedGammaP(-1, 1).isNaN)
        #expect(SpecialFunctions.regularizedBeta(1.5, 1, 1).isNaN)
        #expect(SpecialFunctions.regularizedBeta(0.5, 0, 1).isNaN)
    }

    @Test("special functions agree with closed forms")
    func closedForms() {
        // P(1, x) = 1 − e^{−x}; I_x(a, 1) = xᵃ; I_x(1, b) = 1 − (1 − x)ᵇ.
        for x in [1e-8, 0.3, 1, 2.5, 10, 40] {
            let q = SpecialFunctions.regularizedGammaQ(1, x)
            #expect(abs(q - exp(-x)) <= 1e-14 * exp(-x), "Q(1, \(x))")
            let p = SpecialFunctions.regularizedGammaP(1, x)
            #expect(abs(p + expm1(-x)) <= 1e-14 * -expm1(-x), "P(1, \(x))")
        }
        for (x, a) in [(0.2, 3.0), (0.7, 0.5), (0.999, 40.0), (1e-5, 2.0)] {
            let value = SpecialFunctions.regularizedBeta(x, a, 1)
            #expect(abs(value - pow(x, a)) <= 1e-14 * pow(x, a), "I_\(x)(\(a), 1)")
            let b = a
            let complement = SpecialFunctions.regularizedBetaComplement(x, 1, b)
            #expect(abs(complement - pow(1 - x, b)) <= 1e-13 * pow(1 - x, b), "1 − I_\(x)(1, \(b))")
        }
    }

    @Test("quantiles invert the CDF across degrees of freedom")
    func roundTrip() {
        for df in [1.0, 2, 3, 7, 29, 200, 5000, 1e6] {
            let t = StudentT(degreesOfFreedom: df)
            let chi = ChiSquared(degreesOfFreedom: df)
            let f = FisherF(numeratorDegreesOfFreedom: 3, denominatorDegreesOfFreedom: df)
            for q in [1e-250, 1e-30, 1e-6, 0.005, 0.025, 0.05, 0.3, 0.5, 0.8, 0.975] {
                for d in [t, chi, f] as [any ContinuousDistribution] {
                    let x = d.survivalQuantile(q)
                    if x == .infinity {
                        // Only when the true quantile is beyond the largest double.
                        #expect(d.survival(.greatestFiniteMagnitude) > q, "\(d) q=\(q): infinite quantile")
                        continue
                    }
                    let back = d.survival(x)
                    #expect(abs(back - q) <= 1e-11 * q, "\(d) q=\(q): x=\(x) survival=\(back)")
                }
            }
        }
    }
}
