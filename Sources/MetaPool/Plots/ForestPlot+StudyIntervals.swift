// The interval printed and drawn beside each study: an exact (Clopper–Pearson) or other
// proportion interval for events/total, the published CI of a hazard ratio, or the Wald
// interval yᵢ ± z·√vᵢ on the analysis scale, back-transformed (metafor's forest() default).
// The pooled diamond always keeps the model's own interval.

import RealModule

/// How the study rows of the outputs get their intervals (`--study-ci`).
public enum StudyIntervalMethod: Sendable, Hashable {
    /// A proportion interval of events/total (``ProportionIntervalMethod``); proportions only.
    case proportion(ProportionIntervalMethod)
    /// escalc's yᵢ ± z·√vᵢ on the analysis scale, back-transformed, for every study: what
    /// metafor's `forest()` draws and what MetaPool showed before study intervals could be chosen.
    case analysisScale
    /// A hazard ratio's CI as published (hr_lower, hr_upper, at the plot's level) where the row
    /// gives one, else escalc's interval: the default for measures that are not proportions.
    case published

    /// The code of `--study-ci` and of the JSON's `study_ci_method`: cp, wilson, wilson-cc,
    /// agresti-coull, jeffreys, wald (of the proportion) or escalc.
    public var code: String {
        switch self {
        case .proportion(let m): m.rawValue
        case .analysisScale: "escalc"
        case .published: "published"
        }
    }

    /// Parses ``code``, case-insensitively.
    public init?(code: String) {
        let wanted = code.lowercased()
        if wanted == "escalc" { self = .analysisScale; return }
        if wanted == "published" { self = .published; return }
        guard let m = ProportionIntervalMethod(rawValue: wanted) else { return nil }
        self = .proportion(m)
    }

    /// Every code, in the order `--help` lists them.
    public static var allCodes: [String] { ProportionIntervalMethod.allCases.map(\.rawValue) + ["escalc", "published"] }

    /// The default for a measure: Clopper–Pearson for proportions (events/total), as R's meta
    /// (metaprop's `method.ci = "CP"`); otherwise a hazard ratio's published CI where given, else
    /// the analysis-scale Wald interval.
    public static func defaultMethod(for measure: EffectMeasure) -> StudyIntervalMethod {
        measure.family == .proportion ? .proportion(.clopperPearson) : .published
    }

    /// Whether the method can be used with `measure`: the proportion intervals need events/total.
    public func applies(to measure: EffectMeasure) -> Bool {
        if case .proportion = self { return measure.family == .proportion }
        return true
    }
}

/// One study's shown interval, on the natural scale, and where it came from.
public struct StudyInterval: Sendable, Hashable {
    /// Where a study's interval came from.
    public enum Source: Sendable, Hashable {
        /// A proportion interval of the study's events/total.
        case proportion(ProportionIntervalMethod)
        /// The hazard ratio's CI as published (hr_lower, hr_upper), not recomputed from the SE.
        case published
        /// yᵢ ± z·√vᵢ on the analysis scale, back-transformed.
        case analysisScale
    }

    /// The lower bound on the natural scale.
    public let lower: Double
    /// The upper bound on the natural scale.
    public let upper: Double
    /// What the bounds are.
    public let source: Source

    /// The interval's name in tables and legends: "Clopper-Pearson CI", "published CI",
    /// "Wald CI on the logit proportion scale".
    public func name(measure: EffectMeasure) -> String {
        switch source {
        case .proportion(let m): "\(m.displayName) CI"
        case .published: "published CI"
        case .analysisScale: "Wald CI on the \(measure.analysisScaleName) scale"
        }
    }
}

extension ForestPlot.Study {
    /// The interval shown for the study: ``interval`` where one was chosen, else the Wald interval.
    public var shownLower: Double { interval?.lower ?? ciLower }
    /// The upper bound of the interval shown for the study.
    public var shownUpper: Double { interval?.upper ?? ciUpper }

    /// The study's events and total, read from its input cells, for proportion intervals.
    var counts: (events: Double, total: Double)? {
        let cells = Dictionary(inputs, uniquingKeysWith: { a, _ in a })
        guard let e = cells["events"], let n = cells["total"],
              let events = try? DataTable.number(e, at: InputLocation()), let total = try? DataTable.number(n, at: InputLocation())
        else { return nil }
        return (events, total)
    }

    /// The hazard ratio's published CI (hr_lower, hr_upper as written), when the study's
    /// variance came from it at the plot's `level`: the SE the CI gives, (log U − log L)/(2z),
    /// then equals √vᵢ with z for `level` (Parmar et al. 1998), which also tells a CI at
    /// another level (hr_level, --hr-level) or a row whose effect came from log_hr and se.
    func publishedInterval(level: Double) -> (lower: Double, upper: Double)? {
        let cells = Dictionary(inputs, uniquingKeysWith: { a, _ in a })
        guard let l = cells["hr_lower"], let u = cells["hr_upper"],
              let lower = try? DataTable.number(l, at: InputLocation()), let upper = try? DataTable.number(u, at: InputLocation()),
              lower > 0, upper > lower, vi > 0 else { return nil }
        let z = Normal.standard.survivalQuantile((1 - level) / 2)
        let se = (Double.log(upper) - Double.log(lower)) / (2 * z)
        guard abs(se - vi.squareRoot()) <= 1e-9 * vi.squareRoot() else { return nil }
        return (lower, upper)
    }

    /// The interval `method` gives this study at `level`: a hazard ratio's published CI, a
    /// proportion interval of the counts, or (asked for, or for counts that are not whole numbers)
    /// the analysis-scale Wald interval.
    func studyInterval(_ method: StudyIntervalMethod, measure: EffectMeasure, level: Double) -> StudyInterval {
        if method == .published, measure.family == .hazardRatio, let p = publishedInterval(level: level) {
            return StudyInterval(lower: p.lower, upper: p.upper, source: .published)
        }
        if case .proportion(let m) = method, measure.family == .proportion, let c = counts,
           let ci = try? m.interval(events: c.events, total: c.total, level: level) {
            return StudyInterval(lower: ci.lower, upper: ci.upper, source: .proportion(m))
        }
        return StudyInterval(lower: ciLower, upper: ciUpper, source: .analysisScale)
    }
}

extension ForestPlot {
    /// The plot with each study's interval from `method` (the pooled diamonds are unchanged);
    /// the axis is chosen again to show the new intervals.
    /// - Throws: ``MetaPoolError`` when the axis limits overflow (as the plot's initializer).
    public func withStudyIntervals(_ method: StudyIntervalMethod) throws(MetaPoolError) -> ForestPlot {
        var plot = self
        plot.studyIntervalMethod = method
        plot.rows = rows.withIntervals { [measure, level] s in s.studyInterval(method, measure: measure, level: level) }
        plot.axis = try Self.axis(studies: plot.rows.studies, indices: plot.rows.studyIndices, rows: plot.rows, overall: overall,
                                  predictionInterval: predictionInterval, measure: measure, source: axisSource,
                                  also: bayesian?.axisValues ?? [])
        return plot
    }

    /// The axis for the studies' shown intervals, the diamonds and the prediction interval:
    /// estimates, diamonds, the prediction interval and the null value must be on it; the study
    /// intervals stretch it by at most its own width on either side (clipped, with an arrow, beyond).
    /// The studies are those at `indices` in `studies`, walked twice (estimates, then the shown
    /// intervals) in the arrays of their values.
    static func axis(studies: StudyColumns, indices: some Sequence<Int>, rows: Rows, overall: Diamond, predictionInterval: Interval?,
                     measure m: EffectMeasure, source: String?, also: [Double] = []) throws(MetaPoolError) -> Axis {
        let scale: Scale = m.backTransform == .exponential ? .log : .linear
        let nullValue: Double? = switch m {
        case .oddsRatio, .riskRatio, .hazardRatio: 1
        case .riskDifference, .generic: 0
        default: nil
        }
        var more: [Double] = [overall.ciLower, overall.ciUpper]
        for row in rows.nonStudyRows { if case .subgroupDiamond(let d) = row { more += [d.ciLower, d.ciUpper] } }
        if let pi = predictionInterval { more += [pi.lower, pi.upper] }
        if let nullValue { more.append(nullValue) }
        more += also
        // The estimates, then the rest; the shown study intervals in order, lower then upper bound.
        let must = sequence(state: (indices.makeIterator(), more.makeIterator())) { state -> Double? in
            if let i = state.0.next() { return studies.estimates[i] }
            return state.1.next()
        }
        let wanted = sequence(state: (indices.makeIterator(), Double?.none)) { state -> Double? in
            if let upper = state.1 { state.1 = nil; return upper }
            guard let i = state.0.next() else { return nil }
            state.1 = studies.shownUpper(i)
            return studies.shownLower(i)
        }
        return try axis(must: must, wanted: wanted, scale: scale, nullValue: nullValue,
                        proportion: m.family == .proportion, label: axisLabel(m), source: source)
    }

    /// What the study rows' intervals are, e.g. "95% Clopper-Pearson CI", "95% published CI
    /// (hazard ratios given with a CI); 95% Wald CI on the log hazard ratio scale (the others)".
    public var studyIntervalDescription: String {
        let percent = level * 100
        let lvl = (percent == percent.rounded() ? String(Int(percent)) : NumberFormat.decimal(percent, digits: 2)) + "%"
        var seen: [StudyInterval.Source] = []
        for case .study(let s) in rows { if let source = s.interval?.source, !seen.contains(source) { seen.append(source) } }
        if seen.isEmpty { seen = [.analysisScale] }
        let names = seen.map { source -> String in
            let name = StudyInterval(lower: 0, upper: 0, source: source).name(measure: measure)
            guard seen.count > 1 else { return "\(lvl) \(name)" }
            let which = switch source {
            case .published: "rows given with a CI"
            case .proportion: "rows with whole counts"
            case .analysisScale: "the other rows"
            }
            return "\(lvl) \(name) (\(which))"
        }
        return names.joined(separator: "; ")
    }

    /// The plot's legend line: which interval each study row shows and which the diamond,
    /// e.g. "Studies: 95% Clopper-Pearson CI; pooled: Random-effects model (REML), 95% Wald CI".
    public var intervalLegend: String {
        let percent = level * 100
        let lvl = (percent == percent.rounded() ? String(Int(percent)) : NumberFormat.decimal(percent, digits: 2)) + "%"
        if bayesian != nil {
            return "Studies: observed effect with \(studyIntervalDescription) (squares), shrinkage estimate with \(lvl) central credible interval (circles); pooled: posterior median of μ, \(lvl) central credible interval"
        }
        return "Studies: \(studyIntervalDescription); pooled: \(overall.label), \(lvl) \(pooledIntervalName) CI"
    }
}

extension StudyInterval.Source {
    /// The source's code in JSON: cp, wilson, … (proportions), published, escalc.
    public var code: String {
        switch self {
        case .proportion(let m): m.rawValue
        case .published: "published"
        case .analysisScale: "escalc"
        }
    }
}

extension ForestPlot {
    /// The JSON members of a study's shown interval (natural scale): `study_ci_lower`,
    /// `study_ci_upper` and `study_ci` (where it came from).
    public func studyIntervalMembers(_ s: Study) -> [(String, JSONValue)] {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        return [("study_ci_lower", number(s.shownLower)), ("study_ci_upper", number(s.shownUpper)),
                ("study_ci", .string((s.interval?.source ?? .analysisScale).code))]
    }
}

extension Report {
    /// The report with each study's interval from `method` in its forest plot and data table.
    /// - Throws: ``MetaPoolError`` when the plot's axis limits overflow.
    public func withStudyIntervals(_ method: StudyIntervalMethod) throws(MetaPoolError) -> Report {
        var report = self
        report.forest = try forest.withStudyIntervals(method)
        return report
    }
}
