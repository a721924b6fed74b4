// The report of a Bayesian random-effects fit: the posterior summaries of τ, μ and a new study's θ,
// the densities of μ (with the predictive density) and of τ (with its prior) drawn as SVG, and the
// forest plot with the shrinkage estimates.

extension Report {
    /// What a Bayesian fit adds to the report.
    public struct BayesianSection: Sendable {
        /// The posterior summaries (analysis scale).
        public let summary: BayesianMetaAnalysisSummary
        public let tauPrior: TauPrior, muPrior: EffectPrior
        public let likelihoodName: String
        /// The densities of μ and θ_new, and of τ with its prior.
        public let muPlot: PosteriorDensityPlot, tauPlot: PosteriorDensityPlot
    }

    /// The report of a Bayesian fit of `effects` (the studies `posterior` was fitted to, in order):
    /// the posterior summaries, density plots of μ and τ, the forest plot with the shrinkage
    /// estimates (``ForestPlot/init(_:effects:table:level:)``) and the funnel plot around μ's posterior median.
    public init(_ posterior: any BayesianPosterior, effects: EffectSizes, table: DataTable? = nil, title: String,
                level: Double = 0.95) throws(MetaPoolError) {
        try self.init(posterior, effects: effects, forest: ForestPlot(posterior, effects: effects, table: table, level: level),
                      title: title, level: level)
    }

    /// The report of Bayesian subgroups: the posterior of every row (summaries and densities) and
    /// the forest plot with a block per subgroup (`ForestPlot(groups, table:level:)`).
    public init(_ groups: BayesianSubgroups, table: DataTable? = nil, title: String, level: Double = 0.95) throws(MetaPoolError) {
        try self.init(groups.overall.posterior, effects: groups.overall.effects, forest: ForestPlot(groups, table: table, level: level),
                      title: title, level: level)
    }

    private init(_ posterior: any BayesianPosterior, effects: EffectSizes, forest: ForestPlot, title: String, level: Double) throws(MetaPoolError) {
        let summary = try posterior.summary(level: level, threshold: 0)
        let fit = BayesianForestFit(effects: effects, summary: summary, name: forest.modelName)
        try self.init(title: title, fit: fit, forest: forest)
        bayesian = BayesianSection(summary: summary, tauPrior: posterior.tauPrior, muPrior: posterior.muPrior,
                                   likelihoodName: posterior.likelihoodName,
                                   muPlot: .mu(posterior, summary: summary, measure: effects.measure),
                                   tauPlot: .tau(posterior, summary: summary))
    }

    /// The page's model line, posterior table and density plots.
    func bayesianHTML(_ b: BayesianSection) -> String {
        let m = fit.measure, s = b.summary
        func n(_ x: Double, _ digits: Int = 4) -> String { x.isFinite ? SVG.fixed(x, digits: digits) : (x.isNaN ? "–" : "∞") }
        func e(_ text: String) -> String { SafeText.xml(text) }
        let level = PosteriorDensityPlot.percent(s.level)
        var out = "<p class=\"meta\">Measure \(m.rawValue) (\(e(m.naturalScaleName)) on the natural scale); model \(e(fit.modelName)), posterior by numerical integration; priors τ ~ \(e(b.tauPrior.notation)), μ ~ \(e(b.muPrior.notation)); \(level) credible intervals; k = \(fit.studies.effects.count). Written by MetaPool; the same numbers as R's bayesmeta.</p>\n"
        out += "<h2>Posterior</h2>\n<table class=\"posterior\">\n<tr><th>quantity</th><th>median</th><th>mean</th><th>sd</th><th>\(level) central CrI</th><th>\(level) shortest CrI</th><th>natural scale: median [central CrI]</th></tr>\n"
        for (name, p, natural) in [("τ (between-study SD)", s.tau, false), ("μ (overall effect)", s.mu, true), ("θ_new (a new study, posterior predictive)", s.prediction, true)] {
            let back = natural ? "\(n(fit.backTransform(p.median))) [\(n(fit.backTransform(p.central.lower))), \(n(fit.backTransform(p.central.upper)))]" : ""
            out += "<tr><td>\(e(name))</td><td>\(n(p.median))</td><td>\(n(p.mean))</td><td>\(n(p.standardDeviation))</td><td>[\(n(p.central.lower)), \(n(p.central.upper))]</td><td>[\(n(p.shortest.lower)), \(n(p.shortest.upper))]</td><td>\(back)</td></tr>\n"
        }
        out += "</table>\n"
        var evidence: [String] = []
        if let bf = s.bayesFactorTauZero { evidence.append("Bayes factor for τ = 0: \(n(bf))") }
        if let bf = s.bayesFactorMuZero { evidence.append("for μ = 0: \(n(bf))") }
        if let lm = s.logMarginalLikelihood { evidence.append("log marginal likelihood \(n(lm))") }
        if !evidence.isEmpty { out += "<p>\(e(evidence.joined(separator: "; ")))</p>\n" }
        out += "<h2>Posterior densities</h2>\n<figure class=\"density-mu\">\n\(Self.inline(b.muPlot.svg()))</figure>\n"
        out += "<figure class=\"density-tau\">\n\(Self.inline(b.tauPlot.svg()))</figure>\n"
        return out
    }
}
