// `--study-ci`: the interval printed and drawn beside each study (pool, forest, report).

import ArgumentParser
import MetaPool

extension StudyIntervalMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { allCodes }
    public var defaultValueDescription: String { code }
}

/// `--study-ci`, shared by pool, forest and report.
struct StudyIntervalArguments: ParsableArguments {
    @Option(name: .customLong("study-ci"), help: ArgumentHelp("Each study's interval: for events/total cp (Clopper-Pearson, the default, as R's meta), wilson, wilson-cc, agresti-coull, jeffreys or wald (of the proportion); escalc (yi +/- z*sqrt(vi) back-transformed, metafor's forest()) for any data; published (default otherwise) shows hazard ratios' CIs as given. The pooled interval stays the model's.", valueName: "method"))
    var method: StudyIntervalMethod?

    /// The warning for `--study-ci` with a measure that is not a proportion (nil when it applies).
    static func inapplicable(_ method: StudyIntervalMethod?, measure: EffectMeasure, explicit: Bool = true) -> String? {
        guard let method, !method.applies(to: measure) else { return nil }
        let what = explicit ? "--measure \(measure.rawValue) has none" : "the input gives \(measure.rawValue) effects, not events and totals"
        return "--study-ci \(method.code) applies to proportions (events, total); \(what) (ignored)"
    }

    /// Warns before any data is read when `--measure` says the option cannot apply.
    func validate(measure: EffectMeasure?) {
        if let measure, let warning = Self.inapplicable(method, measure: measure) { warn(warning) }
    }

    /// The plot with the chosen study intervals; with the measure left to the columns, the
    /// warning comes once the measure is known (`explicitMeasure` already warned otherwise).
    func apply(to plot: ForestPlot, explicitMeasure: EffectMeasure?) throws(MetaPoolError) -> ForestPlot {
        guard let method else { return plot }
        guard method.applies(to: plot.measure) else {
            if explicitMeasure == nil, let warning = Self.inapplicable(method, measure: plot.measure, explicit: false) { warn(warning) }
            return plot
        }
        return try plot.withStudyIntervals(method)
    }

    /// The report with the chosen study intervals (see ``apply(to:explicitMeasure:)``).
    func apply(to report: Report, explicitMeasure: EffectMeasure?) throws(MetaPoolError) -> Report {
        guard let method else { return report }
        guard method.applies(to: report.forest.measure) else {
            if explicitMeasure == nil, let warning = Self.inapplicable(method, measure: report.forest.measure, explicit: false) { warn(warning) }
            return report
        }
        return try report.withStudyIntervals(method)
    }
}

extension RecordedAnalysis {
    /// The summary's members with each entry of `studies` (one fit) given its shown interval on
    /// the natural scale (`study_ci_lower`, `study_ci_upper`, `study_ci`), beside `ci_lower` and
    /// `ci_upper`, which stay escalc's interval on the analysis scale; and `study_ci_method`.
    static func addingStudyIntervals(_ members: [(String, JSONValue)], forest: ForestPlot) -> [(String, JSONValue)] {
        var out = members.map { key, value -> (String, JSONValue) in
            // The plot's studies only for a non-empty array (one written entry by entry has none here).
            guard key == "studies", forest.subgroupTest == nil, case .array(let rows) = value, !rows.isEmpty else { return (key, value) }
            let shown = forest.studies
            guard rows.count == shown.count else { return (key, value) }
            return (key, .array(zip(rows, shown).map { row, s in
                guard case .object(let fields) = row else { return row }
                return .object(fields + forest.studyIntervalMembers(s))
            }))
        }
        out.append(("study_ci_method", .string(forest.studyIntervalMethod.code)))
        return out
    }
}
