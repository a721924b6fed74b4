// Gauss–Legendre quadrature on [−1, 1], the building block of the adaptive rule over τ in the
// Bayesian random-effects model.

import RealModule

/// An n-point Gauss–Legendre rule: Σᵢ wᵢ f(xᵢ) ≈ ∫₋₁¹ f(x) dx, exact for polynomials of degree ≤ 2n − 1.
///
/// The nodes are the zeros of the Legendre polynomial Pₙ, found by Newton's method from
/// xᵢ ≈ cos(π(i − ¼)/(n + ½)) with Pₙ and P′ₙ from the three-term recurrence
/// jPⱼ = (2j − 1)xPⱼ₋₁ − (j − 1)Pⱼ₋₂; the weights are wᵢ = 2/((1 − xᵢ²)P′ₙ(xᵢ)²)
/// (Abramowitz & Stegun 25.4.29; Press et al. 2007, §4.6.1).
struct GaussLegendreRule: Sendable {
    let nodes: [Double]
    let weights: [Double]

    init(points n: Int) {
        var x = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var z = Double.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 1.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = z
                var pj = z, pPrevious = 1.0
                if n >= 2 {
                    for j in 2...n {
                        let p2 = (Double(2 * j - 1) * z * p1 - Double(j - 1) * p0) / Double(j)
                        p0 = p1
                        p1 = p2
                    }
                    pj = p1
                    pPrevious = p0
                }
                derivative = Double(n) * (z * pj - pPrevious) / (z * z - 1)
                let step = pj / derivative
                z -= step
                if abs(step) <= 1e-17 { break }
            }
            x[i] = z
            w[i] = 2 / ((1 - z * z) * derivative * derivative)
        }
        // Enforce the symmetry xᵢ = −x₍ₙ₋₁₋ᵢ₎, wᵢ = w₍ₙ₋₁₋ᵢ₎.
        for i in 0..<(n / 2) {
            let a = (x[i] - x[n - 1 - i]) / 2
            let b = (w[i] + w[n - 1 - i]) / 2
            x[i] = a; x[n - 1 - i] = -a
            w[i] = b; w[n - 1 - i] = b
        }
        if n % 2 == 1 { x[n / 2] = 0 }
        nodes = x
        weights = w
    }

    /// The 15-point rule the Bayesian model's adaptive quadrature uses.
    static let fifteen = GaussLegendreRule(points: 15)
}
