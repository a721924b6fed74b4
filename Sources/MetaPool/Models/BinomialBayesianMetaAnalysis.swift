// The Bayesian binomial–normal random-effects model for proportions, with the exact binomial likelihood,
// computed by deterministic quadrature over (μ, τ) (no MCMC, no normal approximation of the counts).

import RealModule

/// A Bayesian random-effects meta-analysis of proportions: xᵢ ~ Binomial(nᵢ, expit θᵢ),
/// θᵢ ~ N(μ, τ²), with a prior on τ (``TauPrior``) and a normal or flat prior on μ (``EffectPrior``)
/// (the binomial–normal model of Hamza, van Houwelingen & Stijnen 2008, J Clin Epidemiol 61:41, with
/// priors as in Röver 2020, J Stat Softw 93(6); Smith, Spiegelhalter & Thomas 1995, Stat Med 14:2685).
///
/// The posterior p(μ, τ | x) ∝ p(μ)·p(τ)·Πᵢ Lᵢ(μ, τ), Lᵢ(μ, τ) = ∫ Binom(xᵢ | nᵢ, expit(μ + τz)) φ(z) dz,
/// is integrated deterministically:
/// - Lᵢ by the trapezoidal rule around the mode of its integrand (``BinomialStudyIntegral``, relative
///   error below 1e-13), which also gives ∂ log Lᵢ/∂μ and ∂² log Lᵢ/∂μ² for Newton steps in μ;
/// - for each τ, μ over Chebyshev panels (17 Clenshaw–Curtis points each) around the conditional mode
///   of the log-concave p(μ | τ, x) (each Lᵢ is log-concave in μ by Prékopa's theorem), out to where the
///   log density has fallen by 40, panels split until the interpolant's last coefficients are below
///   1e-12 of the mass;
/// - τ over Chebyshev panels on [0, ∞), cut at the mode of a Laplace approximation of p(τ | x) and
///   where it has fallen by 2, 8 and 24, the tail beyond mapped to u ∈ [0, 1) by τ = b + c·(u/(1 − u))^r,
///   panels split until the interpolants of p(τ | x), τp, τ²p, E[μ | τ]p and E[μ² | τ]p have converged to
///   ``relativeTolerance``.
/// The interpolants are kept: every density, CDF and quantile is a sum over the τ nodes of conditional
/// quantities in μ, no integral is recomputed.
///
/// Propriety. As τ → ∞, Lᵢ ~ c/τ for 0 < xᵢ < nᵢ (∫Binom(x | n, expit θ)dθ = n/(x(n − x)) is finite), but
/// Lᵢ → a constant for xᵢ = 0 or xᵢ = nᵢ (the binomial likelihood tends to 1 on a half-line). With
/// k′ studies with 0 < xᵢ < nᵢ, ∫p(μ)ΠLᵢ dμ ~ τ^(−k′) with a normal prior on μ and ~ τ^(1 − k′) with a
/// flat one (substitute μ = τm); with p(τ) ~ τ^(−b) the posterior is proper iff a = b + k′ (− 1) > 1,
/// exactly as in the normal–normal model with k′ for k (Gelman 2006, Bayesian Anal 1:515). A flat μ
/// prior also needs an event and a non-event somewhere (else ΠLᵢ → 1 as μ → −∞ or +∞).
public struct BinomialBayesianMetaAnalysis: Sendable {
    /// The relative accuracy the quadrature over τ is refined to (μ and θ are integrated to 1e-12 and 1e-13).
    public static let relativeTolerance = 1e-10

    /// The event counts and totals.
    public let events: [Double], totals: [Double]
    public let tauPrior: TauPrior
    public let muPrior: EffectPrior

    let logChoose: [Double]
    /// The studies' likelihoods.
    let studies: [StudyCounts]
    /// The exponent a of the posterior tail p(τ | x) ~ τ^(−a).
    let tailExponent: Double
    let studentConstant: Double
    /// τ(s): s = τ on [0, tailStart], s = tailStart + u in the tail, τ = tailStart + tailScale·(u/(1 − u))^tailPower.
    let tailStart: Double, tailScale: Double, tailPower: Double, hasTail: Bool
    /// p(τ(s) | x)·dτ/ds on panels in s, normalised (total 1).
    let tauPanels: PiecewiseChebyshev
    /// The τ nodes with their normalised posterior weights Wⱼ, conditional μ rules and conditional SDs of μ.
    let nodeTau: [Double], nodeWeight: [Double]
    let muRules: [MuRule]
    /// log of the unnormalised posterior's integral ∫∫ p(τ)p(μ)ΠLᵢ.
    let logEvidence: Double
    /// The Gauss–Hermite rule for convolutions with N(0, τ²) where τ is small against the spread of μ.
    let hermite: GaussHermiteRule

    /// The conditional posterior of μ given one τ: p(μ | τ, x) tabulated on Chebyshev panels.
    struct MuRule: Sendable {
        var panels = PiecewiseChebyshev()
        /// The nodes and their conditional weights (Σ = 1).
        var nodes: [Double] = [], weights: [Double] = []
        var mode = 0.0, sd = 1.0
        var mean = 0.0, secondMoment = 0.0
        /// log ∫ p(μ)ΠLᵢ(μ, τ) dμ.
        var logMass = -Double.infinity

        @inline(__always) func density(_ mu: Double) -> Double { panels.value(mu) / panels.total }
        @inline(__always) func cdf(_ mu: Double) -> Double { min(1, max(0, panels.integral(to: mu) / panels.total)) }
    }

    /// - Parameters:
    ///   - events: the event counts xᵢ, whole numbers in [0, nᵢ].
    ///   - totals: the totals nᵢ, whole numbers ≥ 1.
    /// - Throws: ``MetaPoolError`` for no studies, arrays of different lengths, counts that are not whole
    ///   numbers with 0 ≤ x ≤ n, n ≥ 1 (naming the row), invalid prior parameters, the Jeffreys prior
    ///   (defined for the normal–normal model only), an improper posterior, or a quadrature that fails.
    public init(events: [Double], totals: [Double], tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        guard events.count == totals.count else {
            throw MetaPoolError(.invalidArgument, "events has \(events.count) values but totals has \(totals.count); give one total per event count")
        }
        guard !events.isEmpty else {
            throw MetaPoolError(.insufficientData, "the Bayesian binomial meta-analysis needs at least 1 study; there are none")
        }
        for i in events.indices {
            let x = events[i], n = totals[i]
            guard n.isFinite, n >= 1, n == n.rounded(), n < 1e15 else {
                throw MetaPoolError(.invalidValue, "study \(i + 1): total = \(n); the total must be a whole number of at least 1",
                                    at: InputLocation(row: i + 1, column: "total"))
            }
            guard x.isFinite, x >= 0, x == x.rounded() else {
                throw MetaPoolError(.invalidValue, "study \(i + 1): events = \(x); the events must be a whole number of at least 0",
                                    at: InputLocation(row: i + 1, column: "events"))
            }
            guard x <= n else {
                throw MetaPoolError(.invalidValue, "study \(i + 1): events = \(BayesianMetaAnalysis.format(x)) > total = \(BayesianMetaAnalysis.format(n)); the events cannot exceed the total",
                                    at: InputLocation(row: i + 1, column: "events"))
            }
        }
        if tauPrior == .jeffreys {
            throw MetaPoolError(.invalidArgument, "the Jeffreys tau prior is defined through the sampling variances of the normal-normal model and is not available for the binomial model; use a proper tau prior (half-normal, half-Cauchy, ...) or the flat one")
        }
        try tauPrior.validate()
        try muPrior.validate()
        let flatMu = muPrior == .flat
        if flatMu {
            guard events.contains(where: { $0 > 0 }) else {
                throw MetaPoolError(.insufficientData, "the posterior is improper: no study has an event, so with a flat prior on mu the likelihood does not vanish as mu -> -infinity; use a normal prior on mu")
            }
            guard zip(events, totals).contains(where: { $0 < $1 }) else {
                throw MetaPoolError(.insufficientData, "the posterior is improper: every study has only events, so with a flat prior on mu the likelihood does not vanish as mu -> +infinity; use a normal prior on mu")
            }
        }
        let informative = zip(events, totals).filter { $0 > 0 && $0 < $1 }.count
        let a = tauPrior.tailExponent + Double(flatMu ? informative - 1 : informative)
        guard a > 1 else {
            throw MetaPoolError(.insufficientData, "the posterior is improper: with \(informative) stud\(informative == 1 ? "y" : "ies") with 0 < events < total, \(flatMu ? "a flat" : "a normal") prior on mu and this tau prior, p(tau | x) falls like tau^-\(BayesianMetaAnalysis.format(a)) and does not integrate; use a proper tau prior (half-normal, half-Cauchy, ...)\(flatMu ? " or a normal prior on mu" : ""), or more studies")
        }
        let logChoose = zip(events, totals).map { x, n in
            Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
        }
        let studies = (0..<events.count).map { StudyCounts.binomial(BinomialCounts(x: events[$0], n: totals[$0], logChoose: logChoose[$0])) }
        // A start for μ: the pooled empirical logit.
        let xs = events.reduce(0, +), ns = totals.reduce(0, +)
        try self.init(studies: studies, events: events, totals: totals, logChoose: logChoose, tauPrior: tauPrior, muPrior: muPrior,
                      tailExponent: a, start: Double.log((xs + 0.5) / (ns - xs + 0.5)))
    }

    /// The model of validated studies (the binomial one, or the core of ``OddsRatioBayesianMetaAnalysis``),
    /// p(τ | x) ~ τ^(−tailExponent).
    init(studies: [StudyCounts], events: [Double], totals: [Double], logChoose: [Double], tauPrior: TauPrior, muPrior: EffectPrior,
         tailExponent a: Double, start: Double) throws(MetaPoolError) {
        self.events = events
        self.totals = totals
        self.logChoose = logChoose
        self.studies = studies
        self.tauPrior = tauPrior
        self.muPrior = muPrior
        tailExponent = a
        var constant = 0.0
        if case .halfStudentT(_, let nu) = tauPrior { constant = TauPrior.studentLogConstant(nu) }
        studentConstant = constant
        hermite = try GaussHermiteRule(points: 40)
        var begin = start
        if case .normal(let m, _) = muPrior, !begin.isFinite { begin = m }
        if !begin.isFinite { begin = 0 }
        let evaluator = Evaluator(studies: studies, muPrior: muPrior, start: begin)
        let built = try Self.build(evaluator, tauPrior: tauPrior, studentConstant: constant, tailExponent: a)
        tailStart = built.tailStart
        tailScale = built.tailScale
        tailPower = built.tailPower
        hasTail = built.hasTail
        tauPanels = built.panels
        nodeTau = built.tau
        nodeWeight = built.weight
        muRules = built.rules
        logEvidence = built.logEvidence
    }

    /// The number of studies k.
    public var count: Int { events.count }

    // MARK: The log posterior in μ at fixed τ

    /// F(μ, τ) = log p(μ) + Σᵢ log Lᵢ(μ, τ) with its first two derivatives in μ. O(k), no allocation.
    struct Evaluator: Sendable {
        let studies: [StudyCounts]
        let muPrior: EffectPrior
        /// A start for μ.
        let start: Double

        @inline(__always)
        func callAsFunction(_ mu: Double, _ tau: Double) -> (value: Double, first: Double, second: Double) {
            var value = 0.0, first = 0.0, second = 0.0
            if case .normal(let m, let s) = muPrior {
                let z = (mu - m) / s
                value = -0.5 * z * z - Double.log(s * Normal.sqrtTwoPi)
                first = -z / s
                second = -1 / (s * s)
            }
            studies.withUnsafeBufferPointer { studies in
                for study in studies {
                    let r = study.evaluate(mu: mu, tau: tau)
                    value += r.log
                    first += r.first
                    second += r.second
                }
            }
            return (value.isNaN ? -.infinity : value, first, second)
        }

        /// Σᵢ |log Lᵢ(μ, τ)| + |log p(μ)|: the rounding error of F is about 1e-16 of it, which bounds the
        /// relative accuracy any rule in μ or τ can reach (1e-11 for 5 studies of 200000).
        func magnitude(_ mu: Double, _ tau: Double) -> Double {
            var m = 0.0
            if case .normal(let c, let s) = muPrior { m = abs(-0.5 * (mu - c) * (mu - c) / (s * s) - Double.log(s * Normal.sqrtTwoPi)) }
            for study in studies { m += abs(study.evaluate(mu: mu, tau: tau).log) }
            return m
        }

        /// The mode of F(·, τ) by Newton steps with backtracking (F is concave), from `start`.
        func mode(_ tau: Double, start: Double) -> (mu: Double, sd: Double, value: Double) {
            var mu = start
            var e = self(mu, tau)
            for _ in 0..<200 {
                guard e.second < 0, e.first.isFinite else { break }
                var step = -e.first / e.second
                let limit = 4 * max(1, (-1 / e.second).squareRoot())
                if abs(step) > limit { step = step > 0 ? limit : -limit }
                var accepted = false
                for _ in 0..<60 {
                    let candidate = self(mu + step, tau)
                    if candidate.value >= e.value - 1e-12 * abs(e.value) {
                        mu += step
                        e = candidate
                        accepted = true
                        break
                    }
                    step /= 2
                }
                if !accepted || abs(step) <= 1e-11 * max(1, (-1 / e.second).squareRoot()) { break }
            }
            let sd = e.second < 0 ? (-1 / e.second).squareRoot() : 1
            return (mu, sd, e.value)
        }

        /// The Laplace approximation of log ∫exp F(μ, τ)dμ (to place the τ panels).
        func laplace(_ tau: Double, start: Double) -> (log: Double, mode: Double) {
            let m = mode(tau, start: start)
            return (m.value + Double.log(m.sd * Normal.sqrtTwoPi), m.mu)
        }

        /// The conditional rule in μ at τ (see the type's documentation).
        func rule(_ tau: Double, start: Double) -> MuRule {
            let m = mode(tau, start: start)
            let peak = m.value
            var panels: [(a: Double, b: Double, v: [Double])] = []
            var scratch = [Double](repeating: 0, count: ChebyshevPanel.count)
            func panel(_ a: Double, _ b: Double) -> [Double] {
                for i in 0..<ChebyshevPanel.count {
                    let mu = a + 0.5 * (b - a) * (ChebyshevPanel.nodes[i] + 1)
                    let v = Double.exp(self(mu, tau).value - peak)
                    scratch[i] = v.isFinite ? v : 0
                }
                return scratch
            }
            let width = 2 * m.sd
            panels.append((m.mu - m.sd, m.mu + m.sd, panel(m.mu - m.sd, m.mu + m.sd)))
            for side in 0..<2 {
                var w = width
                var edge = side == 0 ? m.mu - m.sd : m.mu + m.sd
                var edgeValue = 1.0
                for _ in 0..<400 where edgeValue > 1e-18 {
                    let a = side == 0 ? edge - w : edge, b = side == 0 ? edge : edge + w
                    let v = panel(a, b)
                    panels.append((a, b, v))
                    let far = side == 0 ? v[0] : v[ChebyshevPanel.count - 1]
                    // A slow fall across the panel (an exponential tail): widen the next.
                    if far > edgeValue * Double.exp(-3) { w *= 1.6 }
                    edgeValue = far
                    edge = side == 0 ? a : b
                }
            }
            // Refine: split the panels whose interpolant has not converged, to 1e-12 or the rounding noise of
            // exp F where that is larger (splitting cannot reduce it).
            let tolerance = max(1e-12, 64 * Double.ulpOfOne * magnitude(m.mu, tau))
            panels = ChebyshevPanel.refine(panels, tolerance: tolerance, steps: 200, values: panel)
            var rule = MuRule()
            rule.mode = m.mu
            rule.sd = m.sd
            for p in panels {
                p.v.withUnsafeBufferPointer { rule.panels.append(lower: p.a, upper: p.b, values: $0) }
            }
            let z = rule.panels.total
            var s1 = 0.0, s2 = 0.0
            for p in panels {
                for i in 0..<ChebyshevPanel.count {
                    let mu = p.a + 0.5 * (p.b - p.a) * (ChebyshevPanel.nodes[i] + 1)
                    // Every node is kept (zero weights too): the nodes of panel p are p·17 ..< p·17 + 17.
                    let w = 0.5 * (p.b - p.a) * ChebyshevPanel.weights[i] * p.v[i] / z
                    rule.nodes.append(mu)
                    rule.weights.append(w)
                    s1 += w * (mu - m.mu)
                    s2 += w * (mu - m.mu) * (mu - m.mu)
                }
            }
            rule.mean = m.mu + s1
            rule.secondMoment = rule.mean * rule.mean + max(0, s2 - s1 * s1)
            rule.logMass = peak + Double.log(z)
            return rule
        }
    }

    // MARK: The rule over τ

    struct Built {
        var panels: PiecewiseChebyshev
        var tau: [Double], weight: [Double], rules: [MuRule]
        var tailStart: Double, tailScale: Double, tailPower: Double, hasTail: Bool
        var logEvidence: Double
    }

    /// τ(s) and dτ/ds.
    @inline(__always)
    static func tauOf(_ s: Double, start: Double, scale: Double, power: Double) -> (tau: Double, jacobian: Double) {
        if s <= start { return (s, 1) }
        let u = s - start
        if u >= 1 { return (.infinity, .infinity) }
        let r = u / (1 - u)
        let rp = Double.pow(r, power)
        return (start + scale * rp, scale * power * rp / r / ((1 - u) * (1 - u)))
    }

    static func build(_ f: Evaluator, tauPrior: TauPrior, studentConstant: Double, tailExponent a: Double) throws(MetaPoolError) -> Built {
        let upper = tauPrior.upperBound
        func logPrior(_ tau: Double) -> Double { tauPrior.logDensity(tau, studentConstant: studentConstant) }
        let start = f.start
        func laplace(_ tau: Double) -> Double {
            guard tau >= 0, tau <= upper, tau.isFinite else { return -.infinity }
            let lp = logPrior(tau)
            guard lp > -.infinity else { return -.infinity }
            let l = f.laplace(tau, start: start)
            return l.log + lp
        }
        // The mode of the Laplace approximation: a geometric grid, then golden-section search.
        var grid: [Double] = [0]
        for j in 0...36 {
            let t = Double.pow(2, Double(j) / 2) / 64
            if t < upper { grid.append(t) }
        }
        if upper.isFinite { grid.append(upper) }
        var best = -Double.infinity, bestIndex = 0
        for (i, t) in grid.enumerated() {
            let v = laplace(t)
            if v > best { best = v; bestIndex = i }
        }
        guard best > -.infinity else {
            throw MetaPoolError(.noConvergence, "the posterior density of tau is zero or not finite everywhere it was evaluated")
        }
        var mode = grid[bestIndex]
        do {
            var lo = grid[max(0, bestIndex - 1)], hi = grid[min(grid.count - 1, bestIndex + 1)]
            let ratio = (5.0.squareRoot() - 1) / 2
            for _ in 0..<40 where hi - lo > 1e-6 * max(hi, 1e-3) {
                let x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo)
                if laplace(x1) >= laplace(x2) { hi = x2 } else { lo = x1 }
            }
            let candidate = 0.5 * (lo + hi)
            let v = laplace(candidate)
            if v > best { best = v; mode = candidate }
        }
        var cuts: [Double] = [0, mode]
        let atZero = laplace(0)
        for d in [2.0, 8, 24] {
            let target = best - d
            if mode > 0 && atZero < target {
                var lo = 0.0, hi = mode
                for _ in 0..<40 {
                    let mid = 0.5 * (lo + hi)
                    if laplace(mid) < target { lo = mid } else { hi = mid }
                }
                cuts.append(0.5 * (lo + hi))
            }
            var step = max(mode, 0.05) * 0.5
            var inside = mode, outside = Double.nan
            for _ in 0..<200 {
                let t = mode + step
                if t >= upper || !t.isFinite { break }
                if laplace(t) < target { outside = t; break }
                inside = t
                step *= 2
            }
            if outside.isFinite {
                for _ in 0..<40 {
                    let mid = 0.5 * (inside + outside)
                    if laplace(mid) < target { outside = mid } else { inside = mid }
                }
                cuts.append(0.5 * (inside + outside))
            }
        }
        if upper.isFinite { cuts.append(upper) }
        cuts.sort()
        var distinct: [Double] = []
        for c in cuts where c <= upper && (distinct.isEmpty || c > distinct[distinct.count - 1] * (1 + 1e-9) + 1e-12) {
            distinct.append(c)
        }
        if distinct.count == 1 { distinct.append(max(1, 2 * mode)) }
        let hasTail = !upper.isFinite
        let tailStart = distinct[distinct.count - 1]
        let tailScale = tailStart - mode > 0 ? tailStart - mode : max(tailStart, 0.1)
        // Power r: the tail integrand ~ (1 − u)^(r(a − 1) − 1), at least (1 − u)³ (a ≤ ∞).
        let tailPower = a.isFinite ? max(1, 4 / (a - 1)) : 1
        var intervals: [(Double, Double)] = []
        for i in 0..<(distinct.count - 1) { intervals.append((distinct[i], distinct[i + 1])) }
        if hasTail { for j in 0..<4 { intervals.append((tailStart + Double(j) / 4, tailStart + Double(j + 1) / 4)) } }

        // A panel: the nodes' τ, the values g = p(τ)·∫exp F dμ·dτ/ds (shifted by `best`) and g·τ, g·τ², g·E[μ|τ], g·E[μ²|τ].
        struct Panel { var a: Double, b: Double, tau: [Double], rules: [MuRule], g: [[Double]] }
        var evaluations = 0
        func evaluate(_ a: Double, _ b: Double) -> Panel {
            var p = Panel(a: a, b: b, tau: [], rules: [], g: Array(repeating: [Double](repeating: 0, count: ChebyshevPanel.count), count: 5))
            for i in 0..<ChebyshevPanel.count {
                let s = a + 0.5 * (b - a) * (ChebyshevPanel.nodes[i] + 1)
                let (tau, jacobian) = tauOf(s, start: tailStart, scale: tailScale, power: tailPower)
                p.tau.append(tau)
                let lp = tau.isFinite && tau <= upper ? logPrior(tau) : -.infinity
                guard lp > -.infinity, jacobian.isFinite else { p.rules.append(MuRule()); continue }
                let rule = f.rule(tau, start: start)
                evaluations += 1
                p.rules.append(rule)
                let g = Double.exp(rule.logMass + lp - best) * jacobian
                guard g.isFinite else { continue }
                p.g[0][i] = g
                p.g[1][i] = g * tau
                p.g[2][i] = g * tau * tau
                p.g[3][i] = g * rule.mean
                p.g[4][i] = g * rule.secondMoment
            }
            return p
        }
        let checks = [true, a > 2, a > 3, f.muPrior != .flat || a > 2, f.muPrior != .flat || a > 3]
        var coefficients = [Double](repeating: 0, count: ChebyshevPanel.count)
        func integralAndTail(_ v: [Double], _ p: Panel) -> (Double, Double) {
            v.withUnsafeBufferPointer { vv in coefficients.withUnsafeMutableBufferPointer { ChebyshevPanel.coefficients(vv, into: $0) } }
            var s = 0.0, sAbs = 0.0
            for i in 0..<ChebyshevPanel.count {
                s += ChebyshevPanel.weights[i] * v[i]
                sAbs += ChebyshevPanel.weights[i] * abs(v[i])
            }
            let half = 0.5 * (p.b - p.a)
            return (half * sAbs, half * (abs(coefficients[15]) + abs(coefficients[16])))
        }
        var panels = intervals.map { evaluate($0.0, $0.1) }
        // The tolerance, or the rounding noise of the log posterior where that is larger.
        let tolerance = max(relativeTolerance, 64 * Double.ulpOfOne * f.magnitude(f.mode(mode, start: start).mu, mode))
        var converged = false
        for _ in 0..<400 {
            var totals = [Double](repeating: 0, count: 5)
            var tails: [[Double]] = []
            for p in panels {
                var row = [Double](repeating: 0, count: 5)
                for c in 0..<5 where checks[c] {
                    let (integral, tail) = integralAndTail(p.g[c], p)
                    totals[c] += integral
                    row[c] = tail
                }
                tails.append(row)
            }
            var worst = 0, worstRatio = 0.0, sumRatio = Array(repeating: 0.0, count: 5)
            for (i, row) in tails.enumerated() {
                var r = 0.0
                for c in 0..<5 where checks[c] && totals[c] > 0 {
                    r = max(r, row[c] / totals[c])
                    sumRatio[c] += row[c] / totals[c]
                }
                if r > worstRatio { worstRatio = r; worst = i }
            }
            if sumRatio.max()! <= tolerance { converged = true; break }
            let p = panels[worst]
            let mid = 0.5 * (p.a + p.b)
            guard mid > p.a, mid < p.b, panels.count < 300 else { break }
            panels[worst] = evaluate(p.a, mid)
            panels.append(evaluate(mid, p.b))
        }
        guard converged else {
            throw MetaPoolError(.noConvergence, "the quadrature over tau did not reach relative accuracy \(tolerance) in 300 panels")
        }
        panels.sort { $0.a < $1.a }
        var out = PiecewiseChebyshev()
        for p in panels { p.g[0].withUnsafeBufferPointer { out.append(lower: p.a, upper: p.b, values: $0) } }
        let z = out.total
        guard z > 0, z.isFinite else {
            throw MetaPoolError(.noConvergence, "the integral of the posterior density of tau is zero or not finite")
        }
        // Normalise the tabulated density.
        var normalised = PiecewiseChebyshev()
        var tau: [Double] = [], weight: [Double] = [], rules: [MuRule] = []
        for p in panels {
            let v = p.g[0].map { $0 / z }
            v.withUnsafeBufferPointer { normalised.append(lower: p.a, upper: p.b, values: $0) }
            for i in 0..<ChebyshevPanel.count {
                let w = 0.5 * (p.b - p.a) * ChebyshevPanel.weights[i] * v[i]
                guard w > 0, p.tau[i].isFinite else { continue }
                tau.append(p.tau[i]); weight.append(w); rules.append(p.rules[i])
            }
        }
        let sum = weight.reduce(0, +)
        weight = weight.map { $0 / sum }
        return Built(panels: normalised, tau: tau, weight: weight, rules: rules, tailStart: tailStart, tailScale: tailScale,
                     tailPower: tailPower, hasTail: hasTail, logEvidence: best + Double.log(z))
    }
}
