// The bounds of a profile-likelihood interval for a variance component or a mean, shared by the
// three-level models (normal, regression, binomial GLMM).

/// The likelihood-ratio interval of a parameter: the values where the profile log-likelihood falls
/// χ²₁,₁₋α/2 below its maximum (Cox & Hinkley 1974, §9.3; Hardy & Thompson 1996 for one variance;
/// metafor's `confint()` on `rma.mv`, lme4's `confint(method = "profile")`).
enum ProfileLikelihoodInterval {
    /// The crossing of `excess` in (a, b), f(a) and f(b) of opposite signs, to 1e-10·max(|x|, floor):
    /// the Illinois variant of regula falsi (Dowell & Jarratt 1971, BIT 11:168).
    static func crossing(_ a0: Double, _ fa0: Double, _ b0: Double, _ fb0: Double, floor: Double,
                         excess: (Double) throws(MetaPoolError) -> Double) throws(MetaPoolError) -> Double {
        var a = a0, fa = fa0, b = b0, fb = fb0, side = 0
        for _ in 0..<200 {
            let x = (a * fb - b * fa) / (fb - fa)
            if abs(b - a) <= 1e-10 * max(abs(x), floor) { return x }
            let fx = try excess(x)
            if fx == 0 { return x }
            if (fx > 0) == (fa > 0) {
                a = x; fa = fx
                if side == -1 { fb *= 0.5 }
                side = -1
            } else {
                b = x; fb = fx
                if side == 1 { fa *= 0.5 }
                side = 1
            }
        }
        return 0.5 * (a + b)
    }

    /// The likelihood-ratio interval of an unbounded parameter (a mean): on each side of the
    /// estimate, steps of `step` doubling until the profile falls below the level, then the crossing.
    /// - Parameters:
    ///   - estimate: the maximiser; `top` the profile's excess over the level there (> 0).
    ///   - bound: the largest |x| tried before giving up.
    /// - Throws: ``MetaPoolError`` `.noConvergence` when the profile stays above the level out to
    ///   `bound` (no finite bound), or whatever `excess` throws.
    static func meanBounds(estimate: Double, top: Double, step: Double, bound: Double, name: String,
                           excess: (Double) throws(MetaPoolError) -> Double) throws(MetaPoolError) -> Interval {
        func side(_ direction: Double) throws(MetaPoolError) -> Double {
            var inside = estimate, fInside = top, h = step
            while true {
                let x = estimate + direction * h
                guard abs(x) <= bound else {
                    throw MetaPoolError(.noConvergence, "the profile likelihood of \(name) stays within the interval's level beyond \(x): no finite profile-likelihood bound")
                }
                let fx = try excess(x)
                if fx < 0 { return try crossing(inside, fInside, x, fx, floor: 1, excess: excess) }
                inside = x
                fInside = fx
                h *= 2
            }
        }
        return Interval(try side(-1), try side(1))
    }

    /// The interval of a variance component σ² ≥ 0.
    /// - Parameters:
    ///   - estimate: σ̂², where the profile is at its maximum.
    ///   - top: the profile's excess over the target level at the estimate (> 0).
    ///   - firstUpper: the first trial upper bound, doubled until the profile falls below the level.
    ///   - ceiling: the largest trial upper bound before giving up.
    ///   - floor: the absolute scale of the crossing's tolerance, 1e-10·max(|x|, floor).
    ///   - name: the component, for messages.
    ///   - excess: the profile log-likelihood at σ² = x minus the target level.
    /// - Returns: [0, upper] when the profile stays above the level down to 0.
    /// - Throws: ``MetaPoolError`` `.noConvergence` when the profile does not fall to the level below
    ///   `ceiling`, or whatever `excess` throws.
    static func bounds(estimate: Double, top: Double, firstUpper: Double, ceiling: Double, floor: Double, name: String,
                       excess: (Double) throws(MetaPoolError) -> Double) throws(MetaPoolError) -> Interval {
        var lower = 0.0
        if estimate > 0 {
            let atZero = try excess(0)
            if atZero < 0 { lower = try crossing(0, atZero, estimate, top, floor: floor, excess: excess) }
        }
        var hi = firstUpper
        var atHi = try excess(hi)
        while atHi >= 0 {
            guard hi < ceiling else {
                throw MetaPoolError(.noConvergence, "the profile likelihood of \(name) does not fall to the interval's level")
            }
            hi *= 2
            atHi = try excess(hi)
        }
        return Interval(lower, try crossing(estimate, top, hi, atHi, floor: floor, excess: excess))
    }
}
