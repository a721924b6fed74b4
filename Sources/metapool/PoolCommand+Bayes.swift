// `metapool pool --bayes`: the Bayesian normal–normal random-effects model, computed by numerical
// integration (BayesianMetaAnalysis), as a table for people or JSON.

import ArgumentParser
import MetaPool

/// `--tau-prior` and `--mu-prior` as written on the command line: `half-normal(0.5)`,
/// `half-cauchy(1)`, `half-t(1, 3)`, `uniform(0, 5)`, `log-normal(-1.5, 1)`, `jeffreys`, `flat`;
/// `normal(0, 4)` or `flat` for μ.
enum PriorText {
    /// The family name and its numeric arguments, or `nil` when `text` is not NAME or NAME(x, ...).
    static func parts(_ text: String) -> (name: String, arguments: [Double])? {
        let t = String(text.lowercased().filter { !$0.isWhitespace })
        guard let open = t.firstIndex(of: "(") else { return t.isEmpty ? nil : (t, []) }
        guard t.hasSuffix(")") else { return nil }
        let name = String(t[..<open])
        let inside = t[t.index(after: open)..<t.index(before: t.endIndex)]
        var arguments: [Double] = []
        for piece in inside.split(separator: ",", omittingEmptySubsequences: false) {
            guard let x = Double(piece), x.isFinite else { return nil }
            arguments.append(x)
        }
        return (name, arguments)
    }

    static let tauForms = "half-normal(SCALE), half-cauchy(SCALE), half-t(SCALE, DF), uniform(0, UPPER), log-normal(MU, SIGMA), jeffreys or flat"

    /// The τ prior `text` names, or a usage message.
    static func tau(_ text: String) -> Result<TauPrior, ValidationError> {
        guard let (name, a) = parts(text) else {
            return .failure(ValidationError("--tau-prior \"\(text)\" is not a prior; write one of \(tauForms)"))
        }
        func positive(_ x: Double, _ what: String) -> ValidationError? {
            x > 0 ? nil : ValidationError("--tau-prior \(name): the \(what) must be greater than 0; got \(x)")
        }
        switch (name, a.count) {
        case ("half-normal", 1), ("halfnormal", 1):
            if let e = positive(a[0], "scale") { return .failure(e) }
            return .success(.halfNormal(scale: a[0]))
        case ("half-cauchy", 1), ("halfcauchy", 1):
            if let e = positive(a[0], "scale") { return .failure(e) }
            return .success(.halfCauchy(scale: a[0]))
        case ("half-t", 2), ("half-student-t", 2):
            if let e = positive(a[0], "scale") ?? positive(a[1], "degrees of freedom") { return .failure(e) }
            return .success(.halfStudentT(scale: a[0], degreesOfFreedom: a[1]))
        case ("uniform", 2):
            guard a[0] == 0 else { return .failure(ValidationError("--tau-prior uniform(LOWER, UPPER): tau's uniform prior starts at 0; write uniform(0, \(a[1]))")) }
            if let e = positive(a[1], "upper bound") { return .failure(e) }
            return .success(.uniform(upper: a[1]))
        case ("log-normal", 2), ("lognormal", 2):
            if let e = positive(a[1], "sigma") { return .failure(e) }
            return .success(.logNormal(mu: a[0], sigma: a[1]))
        case ("jeffreys", 0):
            return .success(.jeffreys)
        case ("flat", 0), ("uniform", 0):
            return .success(.flat)
        default:
            return .failure(ValidationError("--tau-prior \"\(text)\": expected one of \(tauForms)"))
        }
    }

    /// The μ prior `text` names, or a usage message.
    static func mu(_ text: String) -> Result<EffectPrior, ValidationError> {
        switch parts(text) {
        case let (name, a)? where name == "normal" && a.count == 2:
            guard a[1] > 0 else { return .failure(ValidationError("--mu-prior normal(MEAN, SD): the standard deviation must be greater than 0; got \(a[1])")) }
            return .success(.normal(mean: a[0], standardDeviation: a[1]))
        case let (name, a)? where name == "flat" && a.isEmpty:
            return .success(.flat)
        default:
            return .failure(ValidationError("--mu-prior \"\(text)\": write normal(MEAN, SD) or flat"))
        }
    }

    /// The default τ prior of a measure (Röver et al. 2021, Res Synth Methods 12:448: half-normal
    /// with scale 0.5 for log odds, log ratios and logits), or `nil` where the scale of the effects
    /// gives no default and the prior must be named.
    static func defaultTau(for measure: EffectMeasure) -> TauPrior? {
        switch measure {
        case .logitProportion, .oddsRatio, .riskRatio, .hazardRatio: .halfNormal(scale: 0.5)
        default: nil
        }
    }

    /// The error for a measure without a default τ prior.
    static func noDefault(_ measure: EffectMeasure) -> MetaPoolError {
        MetaPoolError(.invalidArgument, "--bayes on \(measure.rawValue) effects needs a prior for tau on their scale: give --tau-prior (e.g. half-normal(0.5)); the default half-normal(0.5) is for logits and log ratios (PLO, OR, RR, HR)")
    }

    /// The prior as written back in the output (the library's notation).
    static func describe(_ prior: TauPrior) -> String { prior.notation }

    static func describe(_ prior: EffectPrior) -> String { prior.notation }

    static func g(_ x: Double) -> String { NumberFormat.general(x) }
}

extension PoolCommand {
    /// The model asked for (checked in `validate()`); τ's prior is `nil` for the measure's default.
    var bayesPriors: BayesChoice {
        BayesChoice(tau: tauPrior.flatMap { try? PriorText.tau($0).get() }, mu: muPrior.flatMap { try? PriorText.mu($0).get() } ?? .flat,
                    likelihood: likelihood ?? .normal)
    }

    func runBayes() throws {
        if format == .json {
            // One code path with `check`: the JSON records the input's SHA-256, every option and the priors.
            var spec = model.specification(by: by)
            spec.threshold = prediction.threshold
            spec.bayes = bayesPriors
            let document = try reportingErrors(file: model.file) { () throws(MetaPoolError) in
                try spec.document(bytes: DataTable.readBytes(path: model.file), noting: ModelOptions.noteMixed,
                                  notingExcluded: EffectSizeArguments.note, notingInput: ModelOptions.noteInput)
            }
            var sink = TextSink(streaming: true)
            document.write(into: &sink)
            sink.write("\n")
            sink.flush()
            // With --by, the subgroups that could not be fitted (their `error` members), as the table says.
            if by != nil, case .object(let members) = document.tree,
               case .array(let groups)? = members.first(where: { $0.0 == "subgroups" })?.1 {
                let failed = groups.filter { if case .object(let g) = $0 { g.contains { $0.0 == "error" } } else { false } }.count
                if failed > 0 { printError("metapool: \(failed) of \(groups.count) subgroups could not be fitted (see their error fields)") }
            }
            return
        }
        if let by { return try runBayesSubgroups(by) }
        let (fit, summary, threshold, rates) = try reportingErrors(file: model.file) {
            () throws(MetaPoolError) -> (BayesFit, BayesianMetaAnalysisSummary, Double?, BinomialRateSummary?) in
            let fit = try BayesFit(table: model.table(), measure: model.measure, options: model.effectSizeOptions, priors: bayesPriors)
            let threshold = try fit.analysisThreshold(prediction.threshold)
            return (fit, try fit.posterior.summary(level: model.level, threshold: threshold ?? 0), threshold, try fit.rates(level: model.level))
        }
        print(Self.bayesTable(summary, effects: fit.effects, tau: fit.tauPrior, mu: fit.muPrior, model: fit.posterior.likelihoodName,
                              threshold: prediction.threshold.map { ($0, threshold!) }, rates: rates, uninformative: fit.uninformative,
                              back: fit.backTransform),
              terminator: "")
    }

    static func bayesJSON(_ s: BayesianMetaAnalysisSummary, effects: EffectSizes, tau: TauPrior, mu: EffectPrior, model: String = "normal-normal",
                          threshold: (natural: Double, analysis: Double)?, rates: BinomialRateSummary? = nil, uninformative: [Int] = [],
                          back: (Double) -> Double) -> JSONValue {
        func n(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        func posterior(_ p: PosteriorSummary) -> JSONValue {
            .object([("mean", n(p.mean)), ("sd", n(p.standardDeviation)), ("median", n(p.median)),
                     ("ci_lower", n(p.central.lower)), ("ci_upper", n(p.central.upper)),
                     ("shortest_lower", n(p.shortest.lower)), ("shortest_upper", n(p.shortest.upper))])
        }
        var members: [(String, JSONValue)] = [
            ("measure", .string(effects.measure.rawValue)), ("method", .string("BAYES")), ("model", .string(model)),
            ("tau_prior", .string(PriorText.describe(tau))), ("mu_prior", .string(PriorText.describe(mu))),
            ("level", .number(s.level)), ("k", .integer(effects.count)),
            ("tau", posterior(s.tau)), ("mu", posterior(s.mu)), ("prediction", posterior(s.prediction)),
        ]
        if let threshold {
            members += [("threshold", n(threshold.natural)), ("threshold_analysis_scale", n(threshold.analysis)),
                        ("p_mu_exceeds", n(s.probabilityMuAbove)), ("p_new_study_exceeds", n(s.probabilityPredictionAbove))]
        }
        if let rates {
            func rate(_ r: RatePosterior) -> JSONValue {
                .object([("mean", n(r.mean)), ("sd", n(r.standardDeviation)), ("median", n(r.median)),
                         ("ci_lower", n(r.central.lower)), ("ci_upper", n(r.central.upper))])
            }
            members.append(("rates", .object([("conditional", rate(rates.conditional)), ("population_averaged", rate(rates.populationAveraged))])))
        }
        members += [("bayes_factor_tau0", n(s.bayesFactorTauZero)), ("bayes_factor_mu0", n(s.bayesFactorMuZero)),
                    ("log_marginal_likelihood", n(s.logMarginalLikelihood))]
        if !uninformative.isEmpty {
            members.append(("uninformative_studies", .array(uninformative.map { .string(effects.labels[$0]) })))
        }
        members += [("back_transformed", .object([("mu_median", n(back(s.mu.median))), ("mu_ci_lower", n(back(s.mu.central.lower))),
                                                  ("mu_ci_upper", n(back(s.mu.central.upper))),
                                                  ("prediction_ci_lower", n(back(s.prediction.central.lower))),
                                                  ("prediction_ci_upper", n(back(s.prediction.central.upper)))])),
                    ("studies", .array(effects.labels.indices.map { i in
                        let p = s.studies[i]
                        return .object([("study", .string(effects.labels[i])), ("yi", n(effects.yi[i])), ("vi", n(effects.vi[i])),
                                        ("mean", n(p.mean)), ("sd", n(p.standardDeviation)), ("median", n(p.median)),
                                        ("ci_lower", n(p.central.lower)), ("ci_upper", n(p.central.upper))])
                    }))]
        return .object(members)
    }

    static func bayesTable(_ s: BayesianMetaAnalysisSummary, effects: EffectSizes, tau: TauPrior, mu: EffectPrior, model: String = "normal-normal",
                           threshold: (natural: Double, analysis: Double)?, rates: BinomialRateSummary? = nil, uninformative: [Int] = [],
                           back: (Double) -> Double) -> String {
        func f(_ x: Double) -> String { x.isFinite ? SummaryTable.f(x) : (x.isNaN ? "NA" : "Inf") }
        let level = SummaryTable.f(s.level * 100, 0)
        var out = "Bayesian random-effects model (\(model), k = \(effects.count)); posterior by numerical integration\n"
        out += "Measure: \(effects.measure.rawValue) (\(effects.measure.analysisScaleName)); priors: tau ~ \(PriorText.describe(tau)), mu ~ \(PriorText.describe(mu))\n\n"
        var table = TextTable([.label(""), .number("mean"), .number("sd"), .number("median"), .number("ci.lb"), .number("ci.ub"),
                               .number("shortest.lb"), .number("shortest.ub")], indent: 2)
        for (name, p) in [("tau", s.tau), ("mu", s.mu), ("theta_new", s.prediction)] {
            table.append([name, f(p.mean), f(p.standardDeviation), f(p.median), f(p.central.lower), f(p.central.upper),
                          f(p.shortest.lower), f(p.shortest.upper)])
        }
        out += "Posterior (\(level)% central and shortest credible intervals; theta_new: a new study's true effect):\n\n" + table.render()
        if effects.measure.backTransform != .identity {
            func b(_ x: Double) -> String { SummaryTable.natural(back(x), of: x) }
            out += "\nOn the \(effects.measure.naturalScaleName) scale: mu \(b(s.mu.median)) [\(b(s.mu.central.lower)), \(b(s.mu.central.upper))]; new study [\(b(s.prediction.central.lower)), \(b(s.prediction.central.upper))]\n"
        }
        if let rates {
            func r(_ name: String, _ p: RatePosterior) -> String {
                "\(name) \(f(p.median)) [\(f(p.central.lower)), \(f(p.central.upper))] (mean \(f(p.mean)), sd \(f(p.standardDeviation)))"
            }
            out += "Rates: " + r("conditional expit(mu)", rates.conditional) + "; " + r("population-averaged", rates.populationAveraged) + "\n"
        }
        if let threshold {
            out += "\nP(mu > \(PriorText.g(threshold.natural))) = \(SummaryTable.f(s.probabilityMuAbove)); P(new study > \(PriorText.g(threshold.natural))) = \(SummaryTable.f(s.probabilityPredictionAbove))\n"
        }
        var evidence: [String] = []
        if let bf = s.bayesFactorTauZero { evidence.append("Bayes factor for tau = 0: \(f(bf))") }
        if let bf = s.bayesFactorMuZero { evidence.append("for mu = 0: \(f(bf))") }
        if let lm = s.logMarginalLikelihood { evidence.append("log marginal likelihood \(f(lm))") }
        if !evidence.isEmpty { out += "\n" + evidence.joined(separator: "; ") + "\n" }
        out += "\nShrinkage estimates (posterior of each study's true effect):\n\n"
        var studies = TextTable([.label("study"), .number("yi"), .number("mean"), .number("median"), .number("ci.lb"), .number("ci.ub")], indent: 2)
        for i in effects.labels.indices {
            let p = s.studies[i]
            studies.append([effects.labels[i], f(effects.yi[i]), f(p.mean), f(p.median), f(p.central.lower), f(p.central.upper)])
        }
        out += studies.render()
        if !uninformative.isEmpty {
            out += "\nWithout information on the odds ratio (no events, or only events, in both groups; their posterior is the predictive): "
                + uninformative.map { effects.labels[$0] }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
