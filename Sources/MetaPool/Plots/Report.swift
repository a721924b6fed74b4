// A self-contained HTML report: data, pooled results, forest and funnel plots, subgroups.

/// One HTML page with no external resources (inline CSS and SVG, no scripts, no network): the
/// data table, the pooled results, the forest plot, the funnel plot and, with `by`, the subgroup
/// analysis.
public struct Report: Sendable {
    /// The page title.
    public let title: String
    /// The forest plot of the fit (with a block per subgroup where there are subgroups).
    public internal(set) var forest: ForestPlot
    /// The fitted model the report is about.
    public let fit: any FittedModel
    /// The funnel plot of the overall fit.
    public let funnel: FunnelPlot
    /// The inverse-variance subgroup analysis shown in its own section, or `nil` (also for ``SubgroupFits``).
    public let subgroups: SubgroupAnalysis?
    /// A Bayesian fit's posterior summaries and density plots (Report+Bayes.swift), or `nil`.
    public internal(set) var bayesian: BayesianSection? = nil

    /// Fits the inverse-variance model (and with `by`, the subgroups) once and reports it.
    public init(table: DataTable, title: String, measure: EffectMeasure? = nil,
                method: TauSquaredMethod = .restrictedMaximumLikelihood, ciMethod: ConfidenceIntervalMethod = .wald,
                level: Double = 0.95, by: String? = nil, commonTauSquared: Bool = false) throws(MetaPoolError) {
        if let by {
            let groups = try SubgroupAnalysis(table: table, by: by, measure: measure, method: method, ciMethod: ciMethod,
                                              level: level, commonTauSquared: commonTauSquared)
            try self.init(groups, table: table, title: title)
        } else {
            try self.init(MetaAnalysis(EffectSizes(table: table, measure: measure), method: method, ciMethod: ciMethod, level: level),
                          table: table, title: title)
        }
    }

    /// The report of a fitted model of any kind; `table` supplies the input columns shown.
    public init(_ fit: any FittedModel, table: DataTable? = nil, title: String) throws(MetaPoolError) {
        try self.init(title: title, fit: fit, forest: ForestPlot(fit, table: table))
    }

    /// The report of subgroups fitted with any model: the overall fit and the plot with a block
    /// per subgroup and the Wald test between them.
    public init(_ groups: SubgroupFits, table: DataTable? = nil, title: String) throws(MetaPoolError) {
        try self.init(title: title, fit: groups.overall, forest: ForestPlot(groups, table: table))
    }

    /// The report of subgroups in one GLMM with the subgroup as a factor (a common τ²): the
    /// overall GLMM and the plot with a block per subgroup and the test of the factor (QM).
    public init(_ groups: SubgroupGLMMCommonTau, table: DataTable? = nil, title: String) throws(MetaPoolError) {
        try self.init(title: title, fit: groups.overall, forest: ForestPlot(groups, table: table))
    }

    /// A report of `fit` with its drawn forest plot and a funnel plot around it, no subgroup table.
    init(title: String, fit: any FittedModel, forest: ForestPlot) throws(MetaPoolError) {
        try forest.requireDrawable()
        self.title = title
        self.fit = fit
        self.forest = forest
        funnel = try FunnelPlot(fit: fit)
        subgroups = nil
    }

    /// The report of a subgroup analysis: the overall fit, each subgroup and the test between them.
    public init(_ groups: SubgroupAnalysis, table: DataTable? = nil, title: String) throws(MetaPoolError) {
        self.title = title
        fit = groups.overall
        forest = try ForestPlot(groups, table: table)
        try forest.requireDrawable()
        funnel = try FunnelPlot(groups.overall)
        subgroups = groups
    }

    static let style = """
        body { font-family: \(SVG.fontFamily); color: #1a1a1a; margin: 2em auto; max-width: 1200px; padding: 0 1em; }
        h1 { font-size: 1.5em; margin-bottom: 0.2em; }
        h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
        p.meta { color: #555; margin-top: 0; }
        table { border-collapse: collapse; font-size: 0.9em; }
        th, td { padding: 0.25em 0.8em; text-align: right; border-bottom: 1px solid #e3e3e3; }
        th:first-child, td:first-child { text-align: left; }
        th { background: #f3f5f8; }
        figure { margin: 1em 0; overflow-x: auto; }
        figure svg { max-width: 100%; height: auto; }
        """

    /// The page, UTF-8 HTML5.
    public func html() -> String {
        let a = fit.pooled, het = fit.heterogeneity
        let m = fit.measure
        let inverseVariance = fit as? MetaAnalysis
        func n(_ x: Double?, _ digits: Int = 4) -> String { x.map { SVG.fixed($0, digits: digits) } ?? "–" }
        func e(_ s: String) -> String { SafeText.xml(s) }
        let percent = a.level * 100
        let levelText = (percent == percent.rounded() ? String(Int(percent)) : SVG.tick(percent)) + "%"
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<title>\(e(title))</title>\n<style>\n\(Self.style)\n</style>\n</head>\n<body>\n"
        out += "<h1>\(e(title))</h1>\n"
        if let b = bayesian {
            out += bayesianHTML(b)
        } else {
        out += "<p class=\"meta\">Measure \(m.rawValue) (\(e(m.naturalScaleName)) on the natural scale); model \(e(inverseVariance.map { "\($0.method.displayName) (\($0.method.rawValue)); CI \($0.ciMethod.rawValue)" } ?? fit.modelName)), \(levelText); k = \(fit.studies.effects.count). Written by MetaPool; the same numbers as R's metafor.</p>\n"

        out += "<h2>Pooled result</h2>\n<table class=\"results\">\n<tr><th>quantity</th><th>analysis scale</th><th>natural scale</th></tr>\n"
        out += "<tr><td>estimate [\(levelText) CI]</td><td>\(n(a.estimate)) [\(n(a.confidenceInterval.lower)), \(n(a.confidenceInterval.upper))]</td><td>\(n(fit.backTransform(a.estimate))) [\(n(fit.backTransform(a.confidenceInterval.lower))), \(n(fit.backTransform(a.confidenceInterval.upper)))]</td></tr>\n"
        if let pi = fit.predictionInterval {
            out += "<tr><td>prediction interval\(fit.newStudyPrediction.map { " (\(e($0.label)))" } ?? "")</td><td>[\(n(pi.lower)), \(n(pi.upper))]</td><td>[\(n(fit.backTransform(pi.lower))), \(n(fit.backTransform(pi.upper)))]</td></tr>\n"
        }
        if let g = fit as? GeneralizedLinearMixedModel {
            // The GLMM's estimate is the median study's rate; averaged over the studies' random effects:
            let r = g.populationAveragedRate
            out += "<tr><td>population-averaged rate [\(levelText) CI, μ's CI with τ² fixed]</td><td></td><td>\(n(r.estimate)) [\(n(r.lower)), \(n(r.upper))]</td></tr>\n"
        }
        let test = a.degreesOfFreedom.map { "t(\($0))" } ?? "z"
        out += "<tr><td>\(test), p</td><td>\(n(a.statistic)), \(e(SVG.pValue(a.pValue)))</td><td></td></tr>\n"
        if let t = fit as? any ThreeLevelFitted {
            // Both levels with their profile-likelihood intervals, I² per level, the LRT and the robust test.
            let f = t, column = e(t.clusters.column)
            func ci(_ i: Interval?) -> String { i.map { " [\(n($0.lower)), \(n($0.upper))]" } ?? "" }
            if let r = t.robust, let type = t.robustType {
                out += "<tr><td>cluster-robust \(type.rawValue) [\(levelText) CI], t(\(n(r.degreesOfFreedom, 2))), p</td><td>SE \(n(r.standardError)) [\(n(r.confidenceInterval.lower)), \(n(r.confidenceInterval.upper))], \(n(r.statistic)), \(e(SVG.pValue(r.pValue)))</td><td>[\(n(fit.backTransform(r.confidenceInterval.lower))), \(n(fit.backTransform(r.confidenceInterval.upper)))]</td></tr>\n"
            }
            out += "<tr><td>σ²₁ between clusters (\(column)) [profile CI]</td><td>\(n(f.clusterVariance))\(ci(t.clusterVarianceInterval))</td><td>\(f.clusterCount) clusters</td></tr>\n"
            out += "<tr><td>σ²₂ between cohorts within a cluster [profile CI]</td><td>\(n(f.cohortVariance))\(ci(t.cohortVarianceInterval))</td><td>\(f.studies.effects.count) cohorts</td></tr>\n"
            out += "<tr><td>I² total, between clusters, within clusters</td><td>\(n(het.iSquared, 2))%, \(n(f.iSquaredCluster, 2))%, \(n(f.iSquaredCohort, 2))%</td><td></td></tr>\n"
            out += "<tr><td>LRT against the two-level model (df 1), p</td><td>\(n(f.likelihoodRatio)), \(e(SVG.pValue(f.likelihoodRatioPValue)))</td><td>two-level τ² \(n(f.twoLevelTauSquared))</td></tr>\n"
        } else if let tau2 = het.tauSquared {
            // The Q-profile interval (Viechtbauer 2007) for inverse-variance fits.
            let intervals = try? inverseVariance?.heterogeneityIntervals()
            out += "<tr><td>τ²\(intervals == nil ? "" : " [Q-profile CI]")</td><td>\(n(tau2))\(intervals.map { $0.isEmpty ? " [empty set: both bounds below 0]" : " [\(n($0.tauSquared.lower)), \(n($0.tauSquared.upper))]" } ?? "")</td><td></td></tr>\n"
            out += "<tr><td>I²\(intervals == nil ? "" : " [CI]")</td><td>\(n(het.iSquared, 2))%\(intervals.map { " [\(n($0.iSquared.lower, 2)), \(n($0.iSquared.upper, 2))]" } ?? "")</td><td></td></tr>\n"
            out += "<tr><td>H²</td><td>\(n(het.hSquared, 2))</td><td></td></tr>\n"
        } else {
            out += "<tr><td>I²</td><td>\(n(het.iSquared, 2))%</td><td></td></tr>\n"
            out += "<tr><td>H²</td><td>\(n(het.hSquared, 2))</td><td></td></tr>\n"
        }
        out += "<tr><td>Q (df), p</td><td>\(n(het.q)) (\(het.degreesOfFreedom)), \(e(SVG.pValue(het.pValue)))</td><td></td></tr>\n</table>\n"
        }

        out += "<h2>Forest plot</h2>\n<figure class=\"forest\">\n\(Self.inline(forest.svg()))</figure>\n"

        if let s = subgroups {
            out += "<h2>Subgroups by \(e(s.column))\(s.commonModel == nil ? "" : " (common τ²)")</h2>\n<table class=\"subgroups\">\n"
            out += "<tr><th>subgroup</th><th>k</th><th>estimate [\(levelText) CI], natural scale</th><th>τ²</th><th>I²</th></tr>\n"
            for g in s.subgroups {
                out += "<tr><td>\(e(g.label))</td><td>\(g.count)</td><td>\(n(g.backTransform(g.estimate))) [\(n(g.backTransform(g.confidenceInterval.lower))), \(n(g.backTransform(g.confidenceInterval.upper)))]</td><td>\(n(g.tauSquared))</td><td>\(g.iSquared.map { SVG.fixed($0, digits: 1) + "%" } ?? "–")</td></tr>\n"
            }
            out += "</table>\n"
            if let text = forest.subgroupTestText { out += "<p>\(e(text))</p>\n" }
        }

        out += "<h2>Funnel plot</h2>\n<figure class=\"funnel\">\n\(Self.inline(funnel.svg()))</figure>\n"

        out += "<h2>Data</h2>\n<table class=\"data\">\n<tr><th>study</th>"
        let inputNames = forest.studies.first?.inputs.map(\.0) ?? []
        for name in inputNames { out += "<th>\(e(name))</th>" }
        out += "<th>yi</th><th>vi</th><th>\(e(forest.estimateHeader))</th><th>weight</th></tr>\n"
        for s in forest.studies {
            out += "<tr><td>\(e(s.label))</td>"
            let values = Dictionary(s.inputs, uniquingKeysWith: { x, _ in x })
            for name in inputNames { out += "<td>\(e(values[name] ?? ""))</td>" }
            out += "<td>\(n(s.yi))</td><td>\(n(s.vi))</td><td>\(e(ForestPlot.interval(s.estimate, s.shownLower, s.shownUpper)))</td><td>\(s.weight.map { SVG.fixed($0, digits: 1) + "%" } ?? "–")</td></tr>\n"
        }
        out += "</table>\n<p class=\"meta\">\(e(forest.intervalLegend))</p>\n</body>\n</html>\n"
        return out
    }

    /// An SVG document without its XML declaration, for inlining in HTML.
    static func inline(_ svg: String) -> String {
        guard svg.hasPrefix("<?xml"), let end = svg.firstIndex(of: "\n") else { return svg }
        return String(svg[svg.index(after: end)...])
    }
}
