// Rendering a PoolSummary for people (table), for programs (JSON) and for spreadsheets (CSV).

#if canImport(Glibc)
@preconcurrency import Glibc  // stdout, ferror (C's global streams)
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials  // URL; full Foundation is not linked (start-up time, issue 15)
#else
import Foundation
#endif
import MetaPool

enum JSONOutput {
    /// One JSON object, keys in the order the type declares them (the documented order, JSONOutput.md).
    static func encode<T: Encodable>(_ value: T) -> String {
        do {
            return try OrderedJSONEncoder.encode(value).serialized()
        } catch {
            return "{\"error\": \"could not encode the result\"}"
        }
    }
}

enum StudyCSV {
    /// Per-study rows: study, yi, vi, ci_lower, ci_upper (escalc's interval, analysis scale),
    /// weight and, with the plot's rows, the interval shown for the study on the natural scale
    /// (study_ci_lower, study_ci_upper) and what it is (study_ci: cp, …, published, escalc).
    static func render(_ s: PoolSummary, studies plot: ForestPlot? = nil) -> String {
        let shown = plot.map(\.studies).flatMap { $0.count == s.studies.count ? $0 : nil }
        var out = "study,yi,vi,ci_lower,ci_upper,weight" + (shown == nil ? "" : ",study_ci_lower,study_ci_upper,study_ci") + "\n"
        for (i, study) in s.studies.enumerated() {
            var cells = [quote(study.study), "\(study.yi)", "\(study.vi)", "\(study.ciLower)", "\(study.ciUpper)", "\(study.weight)"]
            if let row = shown?[i] {
                // A natural-scale bound a double cannot hold (exp overflow) is left empty, as JSON's null.
                func cell(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }
                cells += [cell(row.shownLower), cell(row.shownUpper), (row.interval?.source ?? .analysisScale).code]
            }
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    /// A text cell (label, id, message): RFC 4180 quoting when needed and a `'` before a leading
    /// `=`, `+`, `-`, `@`, tab or carriage return against spreadsheet formula injection
    /// (``SafeText/csvField(_:)``). Numeric cells are written without it.
    static func quote(_ field: String) -> String { SafeText.csvField(field) }
}

/// The studies pooled, as R's meta prints them: label, the data as written (events and total,
/// the two groups' counts, HR and CI, or yi and vi/se), the study's estimate and the interval
/// the plot shows on the natural scale (Clopper–Pearson for proportions by default, a hazard
/// ratio's published CI, else yᵢ ± z·√vᵢ back-transformed, metafor's `summary(escalc(...), transf = ...)`)
/// and its percentage weight in the fitted model (metafor's `weights(fit)`), all read from the
/// typed ``ForestPlot`` of the fit.
enum StudyListing {
    static func render(_ plot: ForestPlot, model: String) -> String {
        var out = TextSink(streaming: false)
        write(plot, model: model, into: &out)
        return out.text
    }

    /// Writes the listing into `out` row by row (TextTable+Streaming.swift): 10⁶ studies are
    /// never held as rows of text.
    static func write(_ plot: ForestPlot, model: String, into out: inout TextSink) {
        // The rows that are studies (all of them without subgroups: no list of 10⁶ row numbers).
        let rows = plot.rows
        let studyRows: [Int]? = plot.subgroupTest == nil && rows.allSatisfy({ if case .study = $0 { true } else { false } })
            ? nil : rows.indices.filter { if case .study = rows[$0] { true } else { false } }
        let count = studyRows?.count ?? rows.count
        guard count > 0, case .study(let first) = rows[studyRows?.first ?? 0] else { return }
        let inputs = first.inputs.map(\.0)
        let columns: [TextTable.Column] = [.label("study")] + inputs.map(TextTable.Column.number)
            + [.number(plot.measure.naturalScaleName), .number("ci.lb"), .number("ci.ub"), .number("weight")]
        out.write("Studies (\(plot.studyIntervalDescription), shown on the \(plot.measure.naturalScaleName) scale; weights in the \(model)):\n\n")
        TextTable.write(columns, count: count, row: { i, cells in
            guard case .study(let s) = rows[studyRows?[i] ?? i] else { return }
            cells.append(s.label)
            for name in inputs { cells.append(s.input(name) ?? "-") }
            // The interval shown (ForestPlot+StudyIntervals.swift): exact for proportions by
            // default, as published for hazard ratios; escalc's Wald interval back-transformed otherwise.
            let escalc = (s.interval?.source ?? .analysisScale) == .analysisScale
            cells.append(SummaryTable.natural(s.estimate, of: s.yi))
            cells.append(escalc ? SummaryTable.natural(s.ciLower, of: s.analysisInterval.lower) : SummaryTable.f(s.shownLower))
            cells.append(escalc ? SummaryTable.natural(s.ciUpper, of: s.analysisInterval.upper) : SummaryTable.f(s.shownUpper))
            cells.append(s.weight.map { SummaryTable.f($0, 2) + "%" } ?? "-")
        }, into: &out)
        out.write("\n")
    }
}

enum SummaryTable {
    /// `x` with `digits` decimals, in scientific notation from 10⁹ on (``NumberFormat``, the rule every output shares).
    static func f(_ x: Double, _ digits: Int = 4) -> String { NumberFormat.decimal(x, digits: digits) }

    /// A value on the natural scale, the back-transform of `analysisValue`: never "Inf" for a
    /// finite estimate whose exponential overflows (``NumberFormat/naturalScale(_:analysisValue:digits:)``).
    static func natural(_ x: Double, of analysisValue: Double, _ digits: Int = 4) -> String {
        NumberFormat.naturalScale(x, analysisValue: analysisValue, digits: digits)
    }

    /// metafor's style: p < .0001 below 1e-4, four decimals otherwise.
    static func p(_ x: Double) -> String { x < 1e-4 ? "<.0001" : NumberFormat.decimal(x, digits: 4) }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    static func render(_ s: PoolSummary, analysis: MetaAnalysis, studies: ForestPlot? = nil) -> String {
        var out = TextSink(streaming: false)
        write(s, analysis: analysis, studies: studies, into: &out)
        return out.text
    }

    /// Writes the summary (the study listing row by row) into `sink`; ``render(_:analysis:studies:)`` collects it.
    static func write(_ s: PoolSummary, analysis: MetaAnalysis, studies: ForestPlot? = nil, into sink: inout TextSink) {
        let percent = s.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        var out = ""
        let measure = analysis.effects.measure
        if let tau2 = s.tau2 {
            out += "Random-effects model (k = \(s.k); tau^2 estimator: \(s.method))\n"
            out += "Measure: \(s.measure) (\(measure.analysisScaleName)); CI: \(s.ciMethod), \(lvl)%\n\n"
            if let studies {
                sink.write(out)
                out = ""
                StudyListing.write(studies, model: "random-effects model", into: &sink)
            }
            let ci = { (lo: Double?, hi: Double?, d: Int) -> String in
                guard let lo, let hi else { return "" }
                if s.tau2CINote != nil { return " [empty set]" }
                return " [\(f(lo, d)), \(f(hi, d))]"
            }
            out += "tau^2 = \(f(tau2))\(ci(s.tau2CILower, s.tau2CIUpper, 4))   (\(lvl)% CI by Q-profile)\n"
            out += "tau   = \(f(tau2.squareRoot()))\(ci(s.tau2CILower.map { $0.squareRoot() }, s.tau2CIUpper.map { $0.squareRoot() }, 4))\n"
            if let i2 = s.i2 { out += "I^2   = \(f(i2, 2))%\(ci(s.i2CILower, s.i2CIUpper, 2))\n" }
            if let h2 = s.h2 { out += "H^2   = \(f(h2, 2))\(ci(s.h2CILower, s.h2CIUpper, 2))\n" }
            if s.tau2CINote != nil { out += "(Both bounds of the tau^2 CI fall below 0: the CIs are the empty set, as metafor's confint() says.)\n" }
            out += "\n"
        } else {
            out += "Fixed-effect model (k = \(s.k))\n"
            out += "Measure: \(s.measure) (\(measure.analysisScaleName)); CI: \(s.ciMethod), \(lvl)%\n\n"
            if let studies {
                sink.write(out)
                out = ""
                StudyListing.write(studies, model: "fixed-effect model", into: &sink)
            }
            // The Q-based I² and H² of a common-effect model (Higgins & Thompson 2002), as metafor prints them.
            if let i2 = s.i2 { out += "I^2 (total heterogeneity / total variability):  \(f(i2, 2))%\n" }
            if let h2 = s.h2 { out += "H^2 (total variability / sampling variability): \(f(h2, 2))\n\n" }
        }
        out += "Test for heterogeneity: Q(df = \(s.qDF)) = \(f(s.q)), p \(s.qPValue < 1e-4 ? "< .0001" : "= " + p(s.qPValue))\n\n"
        let stat = s.df == nil ? "zval" : "tval"
        let header = ["estimate", "se", stat] + (s.df != nil ? ["df"] : []) + ["pval", "ci.lb", "ci.ub"]
        var values = [f(s.estimate), f(s.se), f(s.statistic)]
        if let df = s.df { values.append("\(df)") }
        values += [p(s.pValue), f(s.ciLower), f(s.ciUpper)]
        var results = TextTable(header.map(TextTable.Column.number), indent: 2)
        results.append(values)
        out += "Model results:\n\n" + results.render() + "\n"
        if let lo = s.piLower, let hi = s.piUpper {
            let method = analysis.newStudyPrediction.map { ", " + $0.label } ?? ""
            out += "Prediction interval (\(lvl)%\(method)): [\(f(lo)), \(f(hi))]\n\n"
        }
        if measure.backTransform != .identity {
            let b = s.backTransformed
            out += "On the \(measure.naturalScaleName) scale: \(natural(b.estimate, of: s.estimate)) [\(natural(b.ciLower, of: s.ciLower)), \(natural(b.ciUpper, of: s.ciUpper))]"
            if let lo = b.piLower, let hi = b.piUpper, let loA = s.piLower, let hiA = s.piUpper {
                out += "; prediction interval [\(natural(lo, of: loA)), \(natural(hi, of: hiA))]"
            }
            out += "\n"
        }
        sink.write(out)
    }
}

enum SubgroupTable {
    /// The subgroup table's layout, shared by both subgroup renderers: one row per subgroup
    /// (k, estimate, CI, τ², I², natural scale) and the overall model, as a ``TextTable``.
    struct SubgroupRows {
        var table = TextTable([.label("subgroup"), .number("k"), .number("estimate"), .number("ci.lb"), .number("ci.ub"),
                               .number("tau^2"), .number("I^2"), .label("natural scale [CI]")])

        mutating func append(_ label: String, k: Int, estimate: Double, ci: Interval, tau2: Double?, i2: Double?,
                             back: (Double) -> Double) {
            func f(_ x: Double) -> String { SummaryTable.f(x) }
            func n(_ x: Double) -> String { SummaryTable.natural(back(x), of: x) }
            let bt = "\(n(estimate)) [\(n(ci.lower)), \(n(ci.upper))]"
            table.append([label, String(k), f(estimate), f(ci.lower), f(ci.upper), tau2.map { f($0) } ?? "-",
                          i2.map { SummaryTable.f($0, 1) + "%" } ?? "-", bt])
        }
    }

    /// Subgroups fitted with MH, Peto or the GLMM: one line per subgroup, the overall fit and the
    /// Wald test between the subgroup estimates.
    static func render(_ s: SubgroupFits) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x.isNaN ? "p = NA" : x < 1e-4 ? "p < .0001" : "p = " + SummaryTable.p(x) }
        let percent = s.specification.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        var out = "Subgroups by \(SafeText.terminal(s.column)) (\(s.overall.modelName); CI: \(s.specification.ciMethod.rawValue), \(lvl)%; measure \(s.overall.measure.rawValue))\n\n"
        var rows = SubgroupRows()
        func line(_ label: String, _ fit: any FittedModel) {
            let het = fit.heterogeneity
            rows.append(label, k: fit.studies.effects.count, estimate: fit.estimate, ci: fit.confidenceInterval,
                        tau2: het.tauSquared, i2: het.degreesOfFreedom > 0 ? het.iSquared : nil, back: fit.backTransform)
        }
        for g in s.groups { line(g.label, g.fit) }
        line("overall", s.overall)
        out += rows.table.render()
        out += "\nTest for subgroup differences (Wald, subgroup estimates): Q(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(p(s.qBetweenPValue))\n"
        let averaged = s.populationAveragedLines()
        if !averaged.isEmpty { out += "\n" + averaged.map { SafeText.terminal($0) + "\n" }.joined() }
        return out
    }

    /// One line per subgroup (k, estimate, CI, τ², I²), the overall model and the test for
    /// subgroup differences, like the subgroup block of R meta's `print`.
    static func render(_ s: SubgroupAnalysis) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        /// "p = 0.0347" or "p < .0001", as metafor prints it.
        func p(_ x: Double) -> String { x.isNaN ? "p = NA" : x < 1e-4 ? "p < .0001" : "p = " + SummaryTable.p(x) }
        let overall = s.overall
        let percent = (overall.level * 100)
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        var out = "Subgroups by \(SafeText.terminal(s.column)) (\(overall.method.rawValue); CI: \(overall.ciMethod.rawValue), \(lvl)%; measure \(overall.effects.measure.rawValue))\n\n"
        var rows = SubgroupRows()
        for g in s.subgroups {
            rows.append(g.label, k: g.count, estimate: g.estimate, ci: g.confidenceInterval, tau2: g.tauSquared,
                        i2: g.count > 1 ? g.iSquared : nil, back: g.backTransform)
        }
        rows.append("overall", k: overall.count, estimate: overall.estimate, ci: overall.confidenceInterval,
                    tau2: overall.tauSquared, i2: overall.iSquared, back: overall.backTransform)
        out += rows.table.render()
        // A subgroup fitted differently from the others is named (the JSON's `model`).
        for (i, g) in s.subgroups.filter(\.isSingleStudy).enumerated() {
            out += (i == 0 ? "\n" : "") + "Note: \(SafeText.terminal(g.label)) has one study, reported as that study (fixed effect, Wald CI).\n"
        }
        let pText = p(s.qBetweenPValue)
        if let model = s.commonModel {
            let tau2 = model.tauSquared.map { "tau^2 = \(f($0))" } ?? "fixed effect"
            let i2 = model.iSquared.map { ", I^2 = " + SummaryTable.f($0, 2) + "%" } ?? ""
            out += "\nCommon tau^2 across subgroups (mixed-effects model, subgroup as a factor): \(tau2)\(i2)\n"
            out += "Residual heterogeneity: QE(df = \(model.residualQDegreesOfFreedom)) = \(f(model.residualQ)), \(p(model.residualQPValue))\n"
            if let df2 = s.qBetweenDenominatorDegreesOfFreedom {
                out += "Test for subgroup differences: F(df1 = \(s.qBetweenDegreesOfFreedom), df2 = \(df2)) = \(f(s.qBetween)), \(pText)\n"
            } else {
                out += "Test for subgroup differences: QM(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(pText)\n"
            }
        } else {
            out += "\nTest for subgroup differences: Q(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(pText)\n"
        }
        return out
    }
}

/// Every write the tool makes is checked: a CI job that redirects a baseline into a full disk
/// must fail, not record an empty file. Standard output goes through C's buffered `stdout`
/// (Swift's `print`); ``StandardOutput/finish()`` flushes it at exit and reports any error.
/// Files are written with POSIX calls so that "cannot create" (73, EX_CANTCREAT) and "cannot
/// write" (74, EX_IOERR) are told apart (sysexits.h).
enum StandardOutput {
    static let ioErrorStatus: Int32 = 74  // EX_IOERR
    static let cannotCreateStatus: Int32 = 73  // EX_CANTCREAT

    /// Writes `text` now (unbuffered for `check`'s per-baseline lines, in order with standard error).
    static func writeNow(_ text: String) {
        print(text, terminator: "")
        fflush(stdout)
    }

    /// The error of the first write to standard output that failed (TextSink's direct writes),
    /// kept because errno need not hold it by the time ``finish()`` asks.
    nonisolated(unsafe) static var firstWriteError: Int32 = 0

    /// Flushes standard output; nil when everything written reached it, else why not.
    static func finish() -> String? {
        let flushed = fflush(stdout) == 0
        let failed = !flushed || ferror(stdout) != 0
        guard failed else { return nil }
        let code = firstWriteError != 0 ? firstWriteError : (errno == 0 ? EIO : errno)
        return "cannot write to standard output: \(String(cString: strerror(code)))"
    }
}

/// An output file that could not be made: the message (already without "error: ") and the status.
struct OutputFileError: Error {
    var message: String
    var status: Int32
}

enum OutputFile {
    /// Writes `text` to `path`. A regular file (or a new one) is written `atomically` when asked:
    /// a temporary file beside it, renamed over it once complete, so a failed write leaves the old
    /// file; anything else (a device such as /dev/null or /dev/full, a FIFO) is written in place.
    static func write(_ text: String, to path: String, atomically: Bool) throws(OutputFileError) {
        var info = stat()
        let exists = stat(path, &info) == 0
        let regular = !exists || (info.st_mode & S_IFMT) == S_IFREG
        guard atomically && regular else { return try writeInPlace(text, to: path, shownAs: path) }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).metapool-\(getpid()).tmp").path
        do {
            try writeInPlace(text, to: temporary, shownAs: path)
        } catch {
            unlink(temporary)
            throw error
        }
        if exists { chmod(temporary, info.st_mode & 0o7777) }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw OutputFileError(message: "cannot write \(path): \(reason)", status: StandardOutput.cannotCreateStatus)
        }
    }

    private static func writeInPlace(_ text: String, to path: String, shownAs shown: String) throws(OutputFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw OutputFileError(message: "cannot create \(shown): \(String(cString: strerror(errno)))", status: StandardOutput.cannotCreateStatus)
        }
        var failure: Int32 = 0
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if n == 0 { failure = EIO; break }
            bytes = bytes.dropFirst(n)
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 {
            throw OutputFileError(message: "cannot write \(shown): \(String(cString: strerror(failure)))", status: StandardOutput.ioErrorStatus)
        }
    }
}

/// POSIX write(2), named apart from ``OutputFile/write(_:to:atomically:)``.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, bytes, count) }
