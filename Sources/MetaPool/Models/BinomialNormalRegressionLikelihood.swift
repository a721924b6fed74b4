// The AGHQ log-likelihood of the binomial–normal model with moderators, logit pᵢ = xᵢᵀβ + τzᵢ,
// its gradient, and its maximisation; and the fixed-effects logistic regression (τ = 0).

import RealModule

/// ℓ(β, τ) = Σᵢ log Lᵢ(xᵢᵀβ, τ), each Lᵢ the AGHQ integral of ``BinomialNormalLikelihood`` with
/// μ replaced by the study's linear predictor xᵢᵀβ. By the chain rule ∂ℓ/∂βⱼ = Σᵢ xᵢⱼ ∂log Lᵢ/∂μ
/// and ∂ℓ/∂τ = Σᵢ ∂log Lᵢ/∂τ, so the analytic gradient of the intercept-only model carries over.
struct BinomialNormalRegressionLikelihood: Sendable {
    let base: BinomialNormalLikelihood
    /// Row-major k × p.
    let design: [Double]
    let p: Int

    var k: Int { base.events.count }

    /// The natural scale of each parameter: 1/max|xᵢⱼ| for β_j (1 for a column of 0s and 1s, the
    /// intercept and factor dummies), 1 for τ. Differences, steps and bounds are taken in these units.
    var scales: [Double] {
        (0..<p).map { j in
            var largest = 0.0
            for i in 0..<k { largest = max(largest, abs(design[i * p + j])) }
            return largest > 0 ? 1 / largest : 1
        } + [1]
    }

    func linearPredictor(_ beta: ArraySlice<Double>) -> [Double] {
        (0..<k).map { i in
            var eta = 0.0
            for j in 0..<p { eta += design[i * p + j] * beta[beta.startIndex + j] }
            return eta
        }
    }

    /// ℓ and its gradient at θ = (β₁, …, β_p, τ).
    func evaluate(_ theta: [Double]) -> VectorLikelihoodEvaluation {
        let tau = theta[p]
        let eta = linearPredictor(theta[0..<p])
        var terms = [Double](repeating: 0, count: base.rule.nodes.count)
        var value = 0.0, magnitude = 0.0
        var gradient = [Double](repeating: 0, count: p + 1)
        for i in 0..<k {
            let t = base.studyTerm(i, mu: eta[i], tau: tau, terms: &terms)
            value += t.value
            magnitude += t.magnitude
            for j in 0..<p { gradient[j] += design[i * p + j] * t.gMu }
            gradient[p] += t.gTau
        }
        return VectorLikelihoodEvaluation(value: value, gradient: gradient, magnitude: max(abs(value), magnitude))
    }

    /// The conditional modes ẑᵢ at θ.
    func modes(_ theta: [Double]) -> [Double] {
        let eta = linearPredictor(theta[0..<p])
        return (0..<k).map { base.mode(base.events[$0], base.totals[$0], mu: eta[$0], tau: theta[p]) }
    }

    /// Σ log Binom(xᵢ | nᵢ, expit(xᵢᵀβ + τẑᵢ)) at the conditional modes.
    func conditionalLogLikelihood(_ theta: [Double], modes: [Double]) -> Double {
        let eta = linearPredictor(theta[0..<p])
        var total = 0.0
        for i in 0..<k {
            let e = eta[i] + theta[p] * modes[i]
            total += base.logBinomial[i] + base.events[i] * e - base.totals[i] * BinomialNormalLikelihood.log1pexp(e)
        }
        return total
    }

    /// The fixed-effects logistic regression xᵢ ~ Binomial(nᵢ, expit(xᵢᵀβ)) (metafor's `res.FE`,
    /// R's `glm(family = binomial)`), by Newton's method with the exact information XᵀVX,
    /// V = diag(nᵢpᵢ(1 − pᵢ)), and step halving (McCullagh & Nelder 1989, §4.4).
    /// - Throws: `.insufficientData` when the estimates diverge (complete or quasi-complete
    ///   separation, a property of the data: there is no finite estimate).
    func logisticRegression() throws(MetaPoolError) -> (beta: [Double], logLikelihood: Double) {
        let x = base.events, n = base.totals
        func logLik(_ beta: [Double]) -> Double {
            let eta = linearPredictor(beta[...])
            var total = 0.0
            for i in 0..<k { total += base.logBinomial[i] + x[i] * eta[i] - n[i] * BinomialNormalLikelihood.log1pexp(eta[i]) }
            return total
        }
        var beta = [Double](repeating: 0, count: p)
        let sx = x.reduce(0, +), sn = n.reduce(0, +)
        beta[0] = Double.log(sx) - Double.log(sn - sx)
        var current = logLik(beta)
        for _ in 0..<500 {
            let eta = linearPredictor(beta[...])
            var info = [Double](repeating: 0, count: p * p)
            var score = [Double](repeating: 0, count: p)
            for i in 0..<k {
                let (pi, qi) = BinomialNormalLikelihood.probabilities(eta[i])
                let r = BinomialNormalLikelihood.residual(x[i], n[i], pi, qi)
                let w = n[i] * pi * qi
                for a in 0..<p {
                    score[a] += design[i * p + a] * r
                    for b in 0...a { info[a * p + b] += w * design[i * p + a] * design[i * p + b] }
                }
            }
            for a in 0..<p { for b in 0..<a { info[b * p + a] = info[a * p + b] } }
            guard let l = SymmetricMatrix.cholesky(info, n: p) else { throw Self.separation }
            let d = SymmetricMatrix.solve(cholesky: l, n: p, score)
            if d.indices.allSatisfy({ abs(d[$0]) <= 1e-12 * max(scales[$0], abs(beta[$0])) }) {
                let last = zip(beta, d).map(+)
                let value = logLik(last)
                if value >= current { beta = last; current = value }
                return (beta, current)
            }
            var step = 1.0
            var accepted = false
            for _ in 0..<60 {
                let trial = zip(beta, d).map { $0 + step * $1 }
                let value = logLik(trial)
                if value.isFinite, value >= current - 1e-13 * max(1, abs(current)) {
                    beta = trial
                    current = value
                    accepted = true
                    break
                }
                step /= 2
            }
            guard accepted else { return (beta, current) }
            let scale = scales
            guard beta.indices.allSatisfy({ abs(beta[$0]) <= BinomialNormalLikelihood.parameterBound * scale[$0] }) else { throw Self.separation }
        }
        throw Self.separation
    }

    static let separation = MetaPoolError(.insufficientData, "the logistic model with these moderators has no finite maximum: the moderators separate the studies with events from those without (e.g. a factor level whose studies all have 0 events, or all have only events); merge or drop that level")

    /// Maximises ℓ from the fixed-effects logistic estimates with τ = 1 and from `start` (β, τ),
    /// keeps the higher maximum, and compares with τ = 0 (where AGHQ is exact and β̂ is the
    /// logistic regression's) as ``maximizeEvenInTau`` does for one parameter.
    func maximize(start: [Double], fixedEffects: [Double]) throws(MetaPoolError) -> (theta: [Double], value: Double, iterations: Int) {
        var failure: MetaPoolError?
        var best: (theta: [Double], value: Double, iterations: Int)?
        var iterations = 0
        for s in [start, fixedEffects + [1.0]] {
            do {
                let fit = try newtonAscentVector(start: s, bound: BinomialNormalLikelihood.parameterBound, scales: scales, evaluate: evaluate)
                iterations += fit.iterations
                if best.map({ fit.value > $0.value }) ?? true { best = fit }
            } catch {
                failure = error
            }
        }
        guard var fit = best else { throw failure ?? MetaPoolError(.noConvergence, "the GLMM fit did not converge") }
        let zero = evaluate(fixedEffects + [0])
        let delta = 1e-4
        let curvature = evaluate(fixedEffects + [delta]).gradient[p] / delta
        let tolerance = 1e-10 * max(1, abs(zero.value))
        if zero.isFinite, curvature <= 0, abs(fit.theta[p]) < 1e-6 || zero.value > fit.value + tolerance,
           zero.value >= fit.value - tolerance {
            fit = (fixedEffects + [0], zero.value, fit.iterations)
        }
        fit.theta[p] = abs(fit.theta[p])
        fit.iterations = iterations
        return fit
    }
}
