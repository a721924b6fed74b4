// Conformance with R's metafor: every committed fixture case, every key of the JSON output (Documentation.docc/JSONOutput.md).
//
// Fixtures: Tests/MetaPoolTests/Fixtures/conformance/NAME.csv (input) and NAME.expected.json
// (metafor's values), written by `Rscript Tests/Reference/generate_metafor.R` (metafor 3.8-1,
// metadat). The tests never need R.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

/// One dataset's expected values.
struct ConformanceFixture: Decodable {
    struct Case: Decodable {
        var measure: String
        var method: String
        var ci_method: String
        var level: Double
        var expected: [String: AnyJSON]
    }
    var dataset: String
    var source: String
    var input: String
    var cases: [Case]
}

/// A JSON value for comparison.
enum AnyJSON: Decodable {
    case number(Double), string(String), object([String: AnyJSON]), array([AnyJSON]), null, bool(Bool)
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }
}

enum Conformance {
    static let directory = FixtureFolder.url("conformance")

    static func fixtureNames() -> [String] {
        FixtureFolder.names(in: directory, suffix: ".expected.json")
    }

    static func load(_ name: String) throws -> ConformanceFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(ConformanceFixture.self, from: data)
    }

    /// Relative tolerance 1e-6 (p-values 1e-4) with an absolute floor for values near 0
    /// (τ² on its boundary, where metafor's iteration stops at its threshold rather than 0).
    static func tolerance(for key: String) -> (relative: Double, absolute: Double) {
        switch key {
        case "p_value", "q_p_value": (1e-4, 1e-12)
        case "tau2", "tau2_ci_lower", "tau2_ci_upper", "tau", "i2", "i2_ci_lower", "i2_ci_upper": (1e-6, 1e-9)
        default: (1e-6, 1e-10)
        }
    }
}

@Suite("Conformance with metafor")
struct ConformanceTests {
    @Test("fixtures are present")
    func fixturesPresent() {
        #expect(Conformance.fixtureNames().count >= 10)
    }

    @Test("every case matches metafor", arguments: Conformance.fixtureNames())
    func dataset(_ name: String) throws {
        let fixture = try Conformance.load(name)
        let table = try DataTable.read(path: Conformance.directory.appendingPathComponent(fixture.input).path)
        #expect(!fixture.cases.isEmpty)
        for c in fixture.cases {
            let context = "\(name) \(c.measure) \(c.method) \(c.ci_method) \(c.level)"
            let measure = try #require(EffectMeasure(code: c.measure))
            let method = try #require(TauSquaredMethod(code: c.method))
            let ci = try #require(ConfidenceIntervalMethod(rawValue: c.ci_method))
            let effects = try EffectSizes(table: table, measure: measure)
            let fit = try MetaAnalysis(effects, method: method, ciMethod: ci, level: c.level)
            let summary = try fit.summary()
            let actual = try OrderedJSONEncoder.encode(summary)
            compare(actual, c.expected, context: context)
        }
    }

    func compare(_ actual: JSONValue, _ expected: [String: AnyJSON], context: String) {
        guard case .object(let members) = actual else { Issue.record("\(context): summary is not an object"); return }
        let got = Dictionary(members, uniquingKeysWith: { a, _ in a })
        for (key, value) in expected {
            compareValue(got[key], value, key: key, context: context)
        }
    }

    func compareValue(_ actual: JSONValue?, _ expected: AnyJSON, key: String, context: String) {
        switch expected {
        case .null:
            if let actual, actual != .null { Issue.record("\(context) \(key): expected no value, got \(actual)") }
        case .number(let e):
            let tolerance = Conformance.tolerance(for: key)
            switch actual {
            case .number(let a)?:
                expectClose(a, e, relative: tolerance.relative, absolute: tolerance.absolute, "\(context) \(key): \(a) vs metafor \(e)")
            case .integer(let a)?:
                expectClose(Double(a), e, relative: tolerance.relative, absolute: tolerance.absolute, "\(context) \(key): \(a) vs metafor \(e)")
            default:
                Issue.record("\(context) \(key): expected \(e), got \(String(describing: actual))")
            }
        case .string(let e):
            #expect(actual == .string(e), "\(context) \(key)")
        case .bool:
            break
        case .object(let fields):
            guard case .object(let members)? = actual else { Issue.record("\(context) \(key): missing object"); return }
            let got = Dictionary(members, uniquingKeysWith: { a, _ in a })
            for (k, v) in fields { compareValue(got[k], v, key: k, context: "\(context) \(key)") }
        case .array(let items):
            guard case .array(let got)? = actual, got.count == items.count else {
                Issue.record("\(context) \(key): expected \(items.count) items"); return
            }
            for (i, (a, e)) in zip(got, items).enumerated() {
                if case .object(let fields) = e, case .object(let members) = a {
                    let g = Dictionary(members, uniquingKeysWith: { x, _ in x })
                    for (k, v) in fields { compareValue(g[k], v, key: k, context: "\(context) \(key)[\(i)]") }
                } else {
                    compareValue(a, e, key: key, context: "\(context) \(key)[\(i)]")
                }
            }
        }
    }
}
