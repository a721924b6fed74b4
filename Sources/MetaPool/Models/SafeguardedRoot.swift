// One root finder for every τ² equation: Newton or Fisher-scoring steps kept inside a bisection bracket.

/// Finds τ² ≥ 0 where a decreasing estimating function f crosses zero.
///
/// Each evaluation returns f(τ²) and a proposed step (a Newton step −f/f′, or a Fisher-scoring
/// step score/information). Steps are taken while they stay inside the current bracket
/// [lo, hi] (lo where f > 0, hi where f < 0) and replaced by bisection otherwise, or when a step
/// is not half the one before last (Fisher scoring can oscillate about the root), so the
/// iteration always terminates (Press et al. 2007, §9.4 "rtsafe"). If a step would go
/// below 0 and f(0) ≤ 0, the solution is the boundary τ² = 0, as with the step-halving of
/// Viechtbauer (2005) that stops at the boundary.
struct SafeguardedRoot {
    /// Converged when the step is below `relativeTolerance` × max(τ², scale).
    var relativeTolerance = 1e-13
    /// A typical size of τ² (the mean sampling variance), so tiny τ² still converges in absolute terms.
    var scale: Double
    var maxIterations = 2000
    /// Whether to step along the secant through the last two evaluations rather than by the given
    /// step once there are two. For Fisher scoring, whose linear rate can be slow: its REML steps
    /// on 14 studies alternated about the root, each 0.37 times the one before, 33 evaluations to
    /// converge; the secant's order is 1.618 (Press et al. 2007, §9.2). Newton steps, quadratic,
    /// are left as they are.
    var secantSteps = false

    /// The scale for the estimators' convergence test: the typical within-study variance
    /// (k − 1)/tr P at τ² = 0 (Higgins & Thompson 2002), which the precise studies dominate, or the
    /// smallest vᵢ if that is not a positive number. Not the mean variance: one huge vᵢ (1e252) made
    /// the tolerance 1e-13·max(τ², scale) so large that the first step counted as converged
    /// (fuzzing found a Q-profile interval for τ² whose lower bound exceeded its upper bound).
    /// One pass, closed-form tr P = Σw − Σw²/Σw: only the order of magnitude matters here.
    static func typicalScale(_ v: [Double]) -> Double {
        var sw = 0.0, sw2 = 0.0, smallest = Double.infinity
        for vi in v {
            let w = 1 / vi
            sw += w
            sw2 += w * w
            smallest = min(smallest, vi)
        }
        let typical = Double(v.count - 1) / (sw - sw2 / sw)
        if typical.isFinite && typical > 0 { return typical }
        return smallest.isFinite ? smallest : 1
    }

    /// - Parameters:
    ///   - start: initial value (clamped to ≥ 0).
    ///   - evaluate: returns (f(τ²), proposed step). f must be positive below the root.
    /// - Returns: the root, or 0 when f(0) ≤ 0 and the search reaches the boundary. `nil` if it did not converge.
    func solve(start: Double, _ evaluate: (Double) -> (value: Double, step: Double)) -> Double? {
        var lo = 0.0
        var loKnownPositive = false
        var hi = Double.infinity
        var x = max(start.isFinite ? start : 0, 0)
        // The step before last: a step that does not halve it means the iteration is not
        // converging fast (Fisher scoring can oscillate about the root), so bisect instead.
        var stepBeforeLast = Double.infinity, lastStep = Double.infinity
        // The evaluation before, for the secant step.
        var previous: (x: Double, value: Double)?
        for _ in 0..<maxIterations {
            let (value, step) = evaluate(x)
            guard value.isFinite, step.isFinite else { return nil }
            if value == 0 { return x }
            if value > 0 { lo = x; loKnownPositive = true } else { hi = x }
            if x == 0 && value < 0 { return 0 }
            let tolerance = relativeTolerance * max(x, scale)
            var proposal = x + step
            if secantSteps, loKnownPositive, hi.isFinite, let (px, pv) = previous, pv != value {
                // The secant through the last two evaluations, once f has changed sign (a root lies
                // in the bracket) and where it stays inside: before that, Fisher scoring's own steps
                // (a REML score can be negative at 0, positive further up and negative again: a
                // secant from the start jumped to the boundary and missed the root metafor finds).
                let secant = x - value * (x - px) / (value - pv)
                if secant > lo, secant < hi { proposal = secant }
            }
            if proposal < 0 || (proposal <= lo && loKnownPositive) {
                if !loKnownPositive {
                    // Check the boundary before stepping towards it.
                    let (v0, _) = evaluate(0)
                    guard v0.isFinite else { return nil }
                    if v0 <= 0 { return 0 }
                    lo = 0
                    loKnownPositive = true
                }
                proposal = hi.isFinite ? 0.5 * (lo + hi) : 0.5 * (lo + x)
            } else if proposal >= hi {
                proposal = 0.5 * (lo + hi)
            } else if hi.isFinite && loKnownPositive && 2 * abs(proposal - x) > abs(stepBeforeLast) {
                proposal = 0.5 * (lo + hi)
            }
            stepBeforeLast = lastStep
            lastStep = proposal - x
            if abs(proposal - x) <= tolerance || (hi.isFinite && loKnownPositive && hi - lo <= tolerance) {
                return proposal
            }
            previous = (x, value)
            x = proposal
        }
        // Out of iterations without ever seeing f > 0: f may have no root above 0 and only come
        // close to 0 from below (the REML score of (0.1759, 0.0126), (0.1832, 0.0232),
        // (−0.3523, 0.0672) peaks at −1e-9 near τ² = 0.0041, and Fisher scoring crawls towards
        // it). With f(0) ≤ 0 as well, the boundary τ² = 0 is the solution, as metafor ends there
        // ("Fisher scoring algorithm may have gotten stuck at a local maximum. Setting tau^2 = 0.").
        // Not earlier: a score that is negative at 0 can still cross 0 further up (s3253 of the
        // issue-18 sweep: f(0) < 0 and a root at 0.1077, which metafor finds).
        if !loKnownPositive {
            let (v0, _) = evaluate(0)
            if v0.isFinite && v0 <= 0 { return 0 }
        }
        return nil
    }
}
