// Bad input through the public library API: DataTable → EffectSizes → MetaAnalysis throws a
// typed MetaPoolError with the right kind and location (row, column), and never traps.
//
// The file-driven test reuses Fixtures/bad/cases.json (see CLIErrorTests); the rest build bad
// data in memory, the way a Swift caller would.

import Foundation
import Testing
import MetaPool
@testable import MetaPoolTestSupport

/// Runs `body` and returns the MetaPoolError it throws, recording an issue if it returns normally.
private func expectError<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> MetaPoolError? {
    do {
        let value = try body()
        Issue.record("expected a MetaPoolError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as MetaPoolError {
        return error
    } catch {
        Issue.record("expected a MetaPoolError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The whole pipeline the CLI runs, from bytes to a summary.
private func pipeline(_ text: String, source: String? = "in-memory.csv", measure: EffectMeasure? = nil,
                      method: TauSquaredMethod = .restrictedMaximumLikelihood,
                      ci: ConfidenceIntervalMethod = .wald) throws(MetaPoolError) -> MetaAnalysis {
    let table = try DataTable.read(bytes: Array(text.utf8), source: source)
    let effects = try EffectSizes(table: table, measure: measure)
    return try MetaAnalysis(effects, method: method, ciMethod: ci)
}

@Suite("Library errors: typed MetaPoolError with kind and location")
struct LibraryErrorTests {
    // MARK: The fixture files of cases.json, through DataTable.read(path:)

    static var dataCases: [BadInputCase] { BadInputCase.all().filter { $0.kind != nil || $0.exit < 0 } }

    @Test("each bad fixture file throws the expected error", arguments: dataCases)
    func fixture(_ c: BadInputCase) throws {
        let kind = try #require(c.kind.flatMap(MetaPoolError.Kind.init(rawValue:)), "unknown kind \(c.kind ?? "nil") in cases.json")
        let measure = try c.option("--measure").map { try #require(EffectMeasure(code: $0)) }
        let countBased = ["MH", "PETO"].contains(c.option("--method")?.uppercased() ?? "")
        let method = countBased ? .fixedEffect : try c.option("--method").map { try #require(TauSquaredMethod(code: $0)) } ?? .restrictedMaximumLikelihood
        let ci = try c.option("--ci").map { try #require(ConfidenceIntervalMethod(rawValue: $0)) } ?? .wald
        let path: String
        var bytes: [UInt8]? = nil
        if c.file == "-" {
            path = "-"
            let stdin = try #require(c.stdin)
            bytes = Array(try Data(contentsOf: BadInputCase.directory.appendingPathComponent(stdin)))
        } else {
            path = BadInputCase.directory.appendingPathComponent(c.file).path
        }
        // The effect-size options (--hr-level, --add, --to, --drop00, --drop-missing) as the library's settings.
        var options = EffectSizeOptions()
        if let level = c.option("--hr-level"), case .success(let l) = EffectSizeOptions.parseLevel(level) { options.hazardRatioLevel = l }
        options.continuityCorrection.add = c.option("--add").flatMap(Double.init)
        if let to = c.option("--to") { options.continuityCorrection.to = try #require(ContinuityCorrection.Target(rawValue: to)) }
        options.continuityCorrection.dropDoubleZero = c.args.contains("--drop00")
        options.dropMissing = c.args.contains("--drop-missing")
        let error = expectError { () throws(MetaPoolError) -> PoolSummary in
            var table: DataTable
            // --delimiter forces the CSV delimiter (else the header line's); --label names the label column.
            let delimiter = c.option("--delimiter").flatMap(CSVDelimiter.init(name:))
            if let bytes { table = try DataTable.read(bytes: bytes, source: path, delimiter: delimiter) } else { table = try DataTable.read(path: path, delimiter: delimiter) }
            if let label = c.option("--label") { table = try table.labeled(by: label) }
            let conditions = zip(c.args, c.args.dropFirst()).filter { $0.0 == "--where" }.compactMap { RowCondition(parsing: $0.1) }
            // The CLI's mixed-endpoint guard: columns named by --where or --by are exempt.
            let chosen = try table.selecting(conditions)
            try chosen.requireSingleOutcome(exempting: conditions.map(\.column) + (c.option("--by").map { [$0] } ?? []))
            let selected = try chosen.excludingStudies(measure: measure, options: options).table
            if countBased {
                // Mantel–Haenszel and Peto read the raw counts.
                let counts = try TwoGroupCounts(table: selected)
                _ = try MantelHaenszel(counts, measure: measure ?? .oddsRatio)
                return try MetaAnalysis(EffectSizes(table: selected, measure: measure, options: options)).summary()
            }
            if c.args.contains("--bayes"), c.option("--likelihood") == "binomial" {
                // Two-group counts by the hypergeometric–normal model (the CLI's default τ prior): the model reads the
                // table, so its errors name the file.
                let effects = try EffectSizes(table: selected, measure: measure, options: options)
                #expect(effects.measure == .oddsRatio)
                _ = try OddsRatioBayesianMetaAnalysis(table: selected, tauPrior: .halfNormal(scale: 0.5))
                return try MetaAnalysis(effects).summary()
            }
            if c.args.contains("--bayes") {
                // The corpus's Bayesian case: flat priors on tau and mu (an improper posterior with 2 studies).
                #expect(c.option("--tau-prior") == "flat" && c.option("--mu-prior") == nil)
                let effects = try EffectSizes(table: selected, measure: measure, options: options)
                // The model takes arrays, not the table: its error is located in the file as the CLI locates it.
                do throws(MetaPoolError) {
                    _ = try BayesianMetaAnalysis(yi: effects.yi, vi: effects.vi, tauPrior: .flat, muPrior: .flat)
                } catch {
                    var e = error
                    if e.location.file == nil { e.location.file = selected.source }
                    throw e
                }
                return try MetaAnalysis(effects).summary()
            }
            if let cluster = c.option("--cluster") {
                // The three-level model, as AnalysisSpecification fits it: the clusters, then the effect sizes.
                let clusters = try selected.clusters(column: cluster)
                _ = try ThreeLevelAnalysis(EffectSizes(table: selected, measure: measure, options: options), clusters: clusters,
                                           method: method, ciMethod: ci)
                return try MetaAnalysis(EffectSizes(table: selected, measure: measure, options: options)).summary()
            }
            if let by = c.option("--by") {
                let groups = try SubgroupAnalysis(table: selected, by: by, measure: measure,
                                                  method: method, ciMethod: ci, commonTauSquared: c.args.contains("--common-tau2"),
                                                  effectSizeOptions: options)
                return try groups.overall.summary()
            }
            let effects = try EffectSizes(table: selected, measure: measure, options: options)
            return try MetaAnalysis(effects, method: method, ciMethod: ci).summary()
        }
        guard let error else { return }
        #expect(error.kind == kind, "\(error)")
        #expect(error.location.row == c.row, "\(error)")
        #expect(error.location.column == c.column, "\(error)")
        #expect(error.location.file == path, "the error must name the file: \(error)")
        #expect(!error.reason.isEmpty)
        #expect(error.description.contains(c.file == "-" ? "<stdin>" : c.file))
    }

    // MARK: Counts

    @Test("events > total names the row, the column and the study")
    func eventsExceedTotal() {
        let e = expectError { try pipeline("study,events,total\nA,3,10\nB,12,10\n") }
        #expect(e?.kind == .invalidValue)
        #expect(e?.location == InputLocation(file: "in-memory.csv", row: 2, line: 3, column: "events", study: "B"))
        #expect(e?.description == "in-memory.csv, row 2 (line 3, study \"B\"), column \"events\": events (12) exceed total (10)")
    }

    @Test("negative, fractional, zero and non-finite counts", arguments: [
        ("events", "-1", "negative"), ("total", "-10", "negative"), ("events", "2.5", "whole number"),
        ("total", "0", "total is 0"), ("events", "NaN", "not a finite number"), ("total", "inf", "not a finite number"),
        ("total", "1e999", "too large"), ("total", "1e16", "too large"), ("events", "three", "not a number"),
        ("events", "0x10", "not a number"), ("events", "", "empty"), ("events", "NA", "empty"),
    ])
    func badCount(_ column: String, _ cell: String, _ reason: String) {
        let row = column == "events" ? "B,\(cell),10" : "B,3,\(cell)"
        let e = expectError { try pipeline("study,events,total\nA,3,10\n\(row)\nC,4,20\n") }
        #expect(e?.kind == .invalidValue)
        #expect(e?.location.row == 2)
        #expect(e?.location.line == 3)
        #expect(e?.location.column == column)
        #expect(e?.reason.contains(reason) == true, "\(String(describing: e))")
    }

    @Test("two-group cells", arguments: [
        ("B,-1,10,4,10", "treat_events"), ("B,1,-10,4,10", "treat_total"), ("B,1,10,-4,10", "control_events"),
        ("B,1,10,4,-10", "control_total"), ("B,11,10,4,10", "treat_events"), ("B,1,10,14,10", "control_events"),
        ("B,0,0,4,10", "treat_total"), ("B,1,10,0,0", "control_total"), ("B,1.5,10,4,10", "treat_events"),
    ])
    func twoGroupCells(_ row: String, _ column: String) {
        for measure in [EffectMeasure.oddsRatio, .riskRatio, .riskDifference] {
            let e = expectError { try pipeline("study,treat_events,treat_total,control_events,control_total\nA,3,10,4,10\n\(row)\n", measure: measure) }
            #expect(e?.kind == .invalidValue)
            #expect(e?.location.row == 2)
            #expect(e?.location.column == column, "\(String(describing: e))")
        }
    }

    @Test("array API: proportions and two groups name row and column")
    func arrayAPI() {
        let p = expectError { try EffectSizes.proportions(events: [3, 12], totals: [10, 10]) }
        #expect(p?.kind == .invalidValue)
        #expect(p?.location == InputLocation(row: 2, column: "events"))
        let t = expectError { try EffectSizes.twoGroup(treatEvents: [1, 2], treatTotals: [10, 10], controlEvents: [3, -1], controlTotals: [10, 10]) }
        #expect(t?.location == InputLocation(row: 2, column: "control_events"))
        let n = expectError { try EffectSizes.proportions(events: [1, .nan], totals: [10, 10]) }
        #expect(n?.location == InputLocation(row: 2, column: "events"))
        let m = expectError { try EffectSizes.proportions(events: [1, 2], totals: [10]) }
        #expect(m?.kind == .invalidArgument)
        let w = expectError { try EffectSizes.proportions(events: [1], totals: [10], measure: .oddsRatio) }
        #expect(w?.kind == .invalidArgument)
        let e = expectError { try EffectSizes.proportions(events: [], totals: []) }
        #expect(e?.kind == .insufficientData)
    }

    // MARK: Hazard ratios and variances

    @Test("hazard ratios: CI that excludes the HR, non-positive values", arguments: [
        ("0.5,0.6,0.9", "hr", "does not contain"), ("0.5,0,0.9", "hr_lower", "> 0"), ("0.5,-0.1,0.9", "hr_lower", "> 0"),
        ("0,0.1,0.9", "hr", "> 0"), ("-0.5,0.1,0.9", "hr", "> 0"), ("0.5,0.3,0", "hr_upper", "> 0"),
        ("0.5,0.9,0.3", "hr_lower", "not below"), ("0.5,0.5,0.5", "hr_lower", "not below"), ("inf,0.3,0.9", "hr", "not a finite number"),
    ])
    func hazardRatio(_ cells: String, _ column: String, _ reason: String) {
        let e = expectError { try pipeline("study,hr,hr_lower,hr_upper\nA,0.7,0.5,0.9\nB,\(cells)\n") }
        #expect(e?.kind == .invalidValue)
        #expect(e?.location.row == 2)
        #expect(e?.location.column == column)
        #expect(e?.reason.contains(reason) == true, "\(String(describing: e))")
        let arrays = expectError { try EffectSizes.hazardRatios([0.7, 0.5], lower: [0.5, 0.6], upper: [0.9, 0.9]) }
        #expect(arrays?.location == InputLocation(row: 2, column: "hr"))
    }

    @Test("variances and standard errors must be positive and usable", arguments: [
        ("yi,vi", "0.3,0", "vi"), ("yi,vi", "0.3,-0.04", "vi"), ("yi,vi", "0.3,1e-320", "vi"), ("yi,vi", "0.3,nan", "vi"),
        ("yi,se", "0.3,0", "se"), ("yi,se", "0.3,-0.1", "se"), ("yi,se", "0.3,1e200", "se"), ("yi,se", "0.3,1e-170", "se"),
        ("log_hr,se", "0.3,-0.1", "se"), ("log_hr,se", "0.3,1e200", "se"), ("yi,vi", "inf,0.1", "yi"), ("log_hr,se", "NaN,0.1", "log_hr"),
    ])
    func variances(_ header: String, _ cells: String, _ column: String) {
        let e = expectError { try pipeline("study,\(header)\nA,0.1,0.02\nB,\(cells)\n") }
        #expect(e?.kind == .invalidValue)
        #expect(e?.location.row == 2)
        #expect(e?.location.column == column, "\(String(describing: e))")
        #expect(e?.location.study == "B")
    }

    @Test("array API: generic effects and log hazard ratios")
    func genericArrays() {
        #expect(expectError { try EffectSizes.generic(yi: [0.1, 0.2], vi: [0.1, 0]) }?.location == InputLocation(row: 2, column: "vi"))
        #expect(expectError { try EffectSizes.generic(yi: [0.1, .infinity], vi: [0.1, 0.1]) }?.location == InputLocation(row: 2, column: "yi"))
        #expect(expectError { try EffectSizes.generic(yi: [0.1, 0.2], standardErrors: [0.1, -1]) }?.location == InputLocation(row: 2, column: "se"))
        #expect(expectError { try EffectSizes.logHazardRatios([0.1, 0.2], standardErrors: [.nan, 0.1]) }?.location == InputLocation(row: 1, column: "se"))
        #expect(expectError { try EffectSizes.generic(yi: [0.1], vi: [0.1, 0.2]) }?.kind == .invalidArgument)
    }

    // MARK: Columns

    @Test("missing columns, measure incompatible with the columns, ambiguous and duplicate columns")
    func columns() {
        let none = expectError { try pipeline("study,responders,patients\nA,3,10\n") }
        #expect(none?.kind == .missingColumn)
        #expect(none?.reason.contains("`events`") == true)
        let or = expectError { try pipeline("study,events,total\nA,3,10\nB,4,20\n", measure: .oddsRatio) }
        #expect(or?.kind == .missingColumn)
        #expect(or?.reason.contains("`treat_events`") == true)
        let ambiguous = expectError { try pipeline("events,total,yi,vi\n3,10,0.1,0.2\n4,20,0.2,0.1\n") }
        #expect(ambiguous?.kind == .invalidArgument)
        let dup = expectError { try pipeline("study,events,total,TOTAL\nA,3,10,10\n") }
        #expect(dup?.kind == .missingColumn)
        #expect(dup?.location.column == "TOTAL")
        let unnamed = expectError { try pipeline("study,,total\nA,3,10\n") }
        #expect(unnamed?.kind == .missingColumn)
        // A column named by the caller that the table lacks.
        let table = try? DataTable.readCSV("events,total\n3,10\n", source: "t.csv")
        #expect(table?.columnIndex("nope") == nil)
    }

    // MARK: Too few studies

    @Test("one study: FE pools, random effects and t-based intervals need two", arguments: TauSquaredMethod.allCases)
    func oneStudy(_ method: TauSquaredMethod) throws {
        let text = "study,events,total\nA,3,10\n"
        if method == .fixedEffect {
            let fit = try pipeline(text, method: method)
            #expect(fit.count == 1)
            #expect(fit.estimate.isFinite && fit.standardError.isFinite)
            #expect(fit.qDegreesOfFreedom == 0)
        } else {
            let e = expectError { try pipeline(text, method: method) }
            #expect(e?.kind == .insufficientData)
            #expect(e?.location.file == "in-memory.csv")
        }
        for ci in [ConfidenceIntervalMethod.t, .hartungKnapp, .hartungKnappAdHoc] {
            let e = expectError { try pipeline(text, method: method, ci: ci) }
            #expect(e?.kind == .insufficientData)
        }
    }

    @Test("an invalid level is an invalid argument", arguments: [0.0, 1.0, 1.5, -0.5, 95, .nan, .infinity])
    func level(_ level: Double) throws {
        let effects = try EffectSizes.generic(yi: [0.1, 0.2, 0.3], vi: [0.01, 0.02, 0.03])
        #expect(expectError { try MetaAnalysis(effects, level: level) }?.kind == .invalidArgument)
    }

    @Test("effects too extreme for double precision give an error, not NaN", arguments: [TauSquaredMethod.fixedEffect, .derSimonianLaird])
    func overflow(_ method: TauSquaredMethod) {
        let e = expectError { () throws(MetaPoolError) -> MetaAnalysis in
            let effects = try EffectSizes.generic(yi: [1e308, -1e308, 1e308], vi: [1e-300, 1e-300, 1e-300])
            return try MetaAnalysis(effects, method: method)
        }
        #expect(e?.kind == .insufficientData || e?.kind == .noConvergence)
    }

    // MARK: Structure and encoding

    @Test("empty, header-only, not UTF-8, NUL bytes", arguments: [
        ([], MetaPoolError.Kind.emptyInput), (Array("  \n\n".utf8), .emptyInput), (Array("events,total\n".utf8), .emptyInput),
        (Array("events,total\n3,10\n".utf8) + [0xFC, 0x0A], .notUTF8), ([0xFF, 0xFE] + Array("e\0,\0".utf8), .notUTF8),
        (Array("events,total\n3\0,10\n".utf8), .notUTF8), ([0xC3, 0x28], .notUTF8), ([0xEF, 0xBB, 0xBF], .emptyInput),
    ])
    func bytes(_ bytes: [UInt8], _ kind: MetaPoolError.Kind) {
        let e = expectError { try DataTable.read(bytes: bytes, source: "b.csv") }
        #expect(e?.kind == kind, "\(String(describing: e))")
        #expect(e?.location.file == "b.csv")
    }

    @Test("malformed CSV names the row or the line", arguments: [
        ("events,total\n3,10\n4\n", 2 as Int?, nil as Int?), ("events,total\n3,10\n4,20,1\n", 2, nil),
        ("events,total\n3,10\n\"4,20\n", nil, 3), ("events,total\n3,10\n\"4\"x,20\n", nil, 3), ("events,total\n3,1\"0\n", nil, 2),
    ])
    func malformedCSV(_ text: String, _ row: Int?, _ line: Int?) {
        let e = expectError { try DataTable.readCSV(text, source: "m.csv") }
        #expect(e?.kind == .malformedInput)
        if let row { #expect(e?.location.row == row) }
        if let line { #expect(e?.location.line == line) }
    }

    @Test("malformed JSON and bad JSON cells", arguments: [
        ("{\"events\": 3}", MetaPoolError.Kind.malformedInput, nil as Int?, nil as String?),
        ("[1, 2]", .malformedInput, 1, nil),
        ("[{\"events\": 3, \"total\": 10}, 7]", .malformedInput, 2, nil),
        ("[{\"events\": 3, \"total\": 10},\n {\"events\": 4 \"total\": 20}]", .malformedInput, 2, nil),
        ("[{\"events\": 3, \"total\": 10}", .malformedInput, 1, nil),
        ("[{\"events\": 3, \"total\": 10}] x", .malformedInput, nil, nil),
        ("[{\"events\": 3, \"total\": 10, \"total\": 11}]", .malformedInput, 1, "total"),
        ("[{\"events\": \"3\", \"total\": 10}, {\"events\": \"four\", \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": true, \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": [4], \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": 1e999, \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": 30, \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": null, \"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"total\": 20}]", .invalidValue, 2, "events"),
        ("[{\"events\": 3, \"total\": 10}, {\"events\": 04, \"total\": 20}]", .malformedInput, 2, nil),
        ("[]", .emptyInput, nil, nil),
        (String(repeating: "[", count: 100_000), .malformedInput, 1, nil),
        ("[{\"events\": 3, \"total\": 10, \"x\": " + String(repeating: "[", count: 100_000) + "}]", .malformedInput, 1, nil),
    ])
    func json(_ text: String, _ kind: MetaPoolError.Kind, _ row: Int?, _ column: String?) {
        let e = expectError { try pipeline(text, source: "j.json", method: .fixedEffect) }
        #expect(e?.kind == kind, "\(String(describing: e))")
        #expect(e?.location.row == row, "\(String(describing: e))")
        #expect(e?.location.column == column, "\(String(describing: e))")
        #expect(e?.location.file == "j.json")
    }

    @Test("JSON keeps the key order of the input and reads escapes")
    func jsonOrder() throws {
        let table = try DataTable.readJSON(#"[{"total": 10, "events": 3, "study": "M\u00fcller \"A\""}, {"events": 4, "total": 20, "arm": "x"}]"#, source: nil)
        #expect(table.columns == ["study", "total", "events", "arm"])
        #expect(table.rows[0] == ["Müller \"A\"", "10", "3", nil])
        #expect(table.rows[1] == [nil, "20", "4", "x"])
    }

    @Test("files: missing, a directory")
    func files() {
        let missing = expectError { try DataTable.read(path: "/nonexistent/metapool/trials.csv") }
        #expect(missing?.kind == .unreadableInput)
        #expect(missing?.location.file == "/nonexistent/metapool/trials.csv")
        let directory = expectError { try DataTable.read(path: NSTemporaryDirectory()) }
        #expect(directory?.kind == .unreadableInput)
    }
}
