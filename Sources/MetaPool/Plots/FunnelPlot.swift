// The funnel plot: each study's effect against its standard error, with pseudo-confidence limits.

/// A funnel plot as metafor's `funnel()` draws it for a model without moderators: effects yᵢ
/// (analysis scale) on the horizontal axis, standard errors √vᵢ on the vertical axis (0 at the
/// top), a vertical line at the pooled estimate θ̂ and the pseudo-confidence region
/// θ̂ ± z_{1−α/2}·SE (Sterne & Egger 2001). Studies added by trim-and-fill can be shown as open
/// circles.
public struct FunnelPlot: Sendable {
    /// One study in the plot.
    public struct Point: Sendable {
        /// The study label (`filled` for an imputed study).
        public let label: String
        /// The effect yᵢ on the analysis scale.
        public let effect: Double
        /// The standard error √vᵢ.
        public let standardError: Double
        /// Whether the point was imputed (trim-and-fill) rather than observed.
        public let filled: Bool
    }

    /// The effect measure.
    public let measure: EffectMeasure
    /// The estimate the funnel is centred on (analysis scale).
    public let estimate: Double
    /// The confidence level of the pseudo-confidence region, in (0, 1).
    public let level: Double
    /// The observed studies, then the filled ones.
    public let points: [Point]
    /// Effect-axis limits and ticks (analysis scale), and the largest standard error shown.
    public let effectLower: Double
    /// The right end of the effect axis (analysis scale).
    public let effectUpper: Double
    /// Ticks of the effect axis (analysis scale).
    public let effectTicks: [Double]
    /// The largest standard error on the vertical axis (its last tick).
    public let maxStandardError: Double
    /// Ticks of the standard-error axis, from 0.
    public let standardErrorTicks: [Double]

    /// The funnel plot of any fit: an inverse-variance fit draws its own; other models (MH, Peto,
    /// GLMM) draw their study effects around their pooled estimate.
    public init(fit: any FittedModel) throws(MetaPoolError) {
        if let analysis = fit as? MetaAnalysis {
            try self.init(analysis)
        } else {
            try self.init(MetaAnalysis(fit.studies.effects, method: .fixedEffect, level: fit.pooled.level), center: fit.pooled.estimate)
        }
    }

    /// The funnel plot of an inverse-variance fit, with studies imputed by trim-and-fill where given.
    /// - Parameters:
    ///   - fit: the fitted model of the observed studies; its estimate centres the funnel unless
    ///     `center` is given.
    ///   - filled: studies imputed by trim-and-fill, (yᵢ, vᵢ), drawn as open circles.
    ///   - center: the estimate to centre on, e.g. trim-and-fill's adjusted estimate (as metafor's
    ///     `funnel(trimfill(...))` draws it).
    /// - Throws: ``MetaPoolError``: `.invalidValue` for a filled study whose effect is not finite or
    ///   whose variance is not finite and greater than 0; `.invalidArgument` for a centre that is
    ///   not finite; `.insufficientData` when the effects cannot be placed on an axis in double
    ///   precision (its width overflows, or effects near 1e300 are all equal to within rounding).
    public init(_ fit: MetaAnalysis, filled: [(yi: Double, vi: Double)] = [], center: Double? = nil) throws(MetaPoolError) {
        for (i, study) in filled.enumerated() where !(study.yi.isFinite && study.vi.isFinite && study.vi > 0) {
            throw MetaPoolError(.invalidValue, "filled study \(i + 1) has yi = \(study.yi), vi = \(study.vi); its effect must be finite and its variance finite and greater than 0")
        }
        if let center, !center.isFinite {
            throw MetaPoolError(.invalidArgument, "the centre of the funnel is \(center); it must be a finite number")
        }
        func tooExtreme() -> MetaPoolError {
            MetaPoolError(.insufficientData, "the effects are too extreme to draw a funnel plot in double precision (the axis limits overflow, or the effects are equal to within rounding); check the yi and vi values or rescale them",
                          at: InputLocation(file: fit.effects.locations.first?.file))
        }
        measure = fit.effects.measure
        estimate = center ?? fit.estimate
        level = fit.level
        var points = zip(fit.effects.labels, zip(fit.effects.yi, fit.effects.vi)).map {
            Point(label: $0.0, effect: $0.1.0, standardError: $0.1.1.squareRoot(), filled: false)
        }
        points += filled.map { Point(label: "filled", effect: $0.yi, standardError: $0.vi.squareRoot(), filled: true) }
        self.points = points
        let z = Normal.standard.survivalQuantile((1 - fit.level) / 2)
        let seMax = max(points.map(\.standardError).max() ?? 1, 1e-12)
        guard let seTicks = Self.niceTicks(0, seMax * 1.05) else { throw tooExtreme() }
        maxStandardError = seTicks.last ?? seMax
        standardErrorTicks = seTicks
        let lows = points.map(\.effect) + [estimate - z * maxStandardError]
        let highs = points.map(\.effect) + [estimate + z * maxStandardError]
        guard let ticks = Self.niceTicks(lows.min() ?? -1, highs.max() ?? 1) else { throw tooExtreme() }
        effectTicks = ticks
        effectLower = ticks.first ?? -1
        effectUpper = ticks.last ?? 1
    }

    /// Ticks at 1–2–2.5–5 steps covering [lower, upper], about five of them; `nil` when there are
    /// none in double precision: the width or the outer ticks overflow, or the limits are equal and
    /// so large that widening them by 1 is lost to rounding.
    static func niceTicks(_ lower: Double, _ upper: Double) -> [Double]? {
        var lo = lower, hi = upper
        if !(hi - lo > 1e-12) { lo -= 1; hi += 1 }
        let raw = (hi - lo) / 5
        // The loops below end only for a positive, finite raw step: a width of 0 (1e300 ± 1 is
        // 1e300) or ∞ (effects of −1e308 and 1e308) made them loop forever.
        guard raw.isFinite, raw > 0 else { return nil }
        var magnitude = 1.0
        while magnitude > raw { magnitude /= 10 }
        while magnitude * 10 <= raw { magnitude *= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        let first = (lo / step + 1e-9).rounded(.down) * step
        let last = (hi / step - 1e-9).rounded(.up) * step
        guard first.isFinite, last.isFinite else { return nil }
        var ticks: [Double] = []
        var i = 0
        while true {
            let value = first + Double(i) * step
            if value > last + step * 1e-6 || i > 100 { break }
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            i += 1
        }
        return ticks
    }

    /// The axis name of the effects, e.g. "Log Odds Ratio".
    var effectLabel: String {
        switch measure {
        case .rawProportion: "Proportion"
        case .logitProportion: "Logit Proportion"
        case .arcsineProportion: "Arcsine Transformed Proportion"
        case .freemanTukeyProportion: "Double Arcsine Transformed Proportion"
        case .logProportion: "Log Proportion"
        case .oddsRatio: "Log Odds Ratio"
        case .riskRatio: "Log Risk Ratio"
        case .riskDifference: "Risk Difference"
        case .hazardRatio: "Log Hazard Ratio"
        case .generic: "Effect"
        }
    }

    /// A standalone SVG document. Points carry `data-effect` and `data-se`; the axes carry their
    /// limits and pixel extents as `data-*` attributes, so that the geometry can be checked.
    public func svg() -> String {
        let (width, height) = (560.0, 440.0)
        let (left, right, top, bottom) = (70.0, 530.0, 30.0, 380.0)
        let f = 12.0
        func x(_ effect: Double) -> Double { left + (effect - effectLower) / (effectUpper - effectLower) * (right - left) }
        func y(_ se: Double) -> Double { top + se / maxStandardError * (bottom - top) }
        let z = EstimateInference.criticalValue(level: level, degreesOfFreedom: nil)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"funnel-plot\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" font-family=\"\(SVG.fontFamily)\" font-size=\"\(SVG.coordinate(f))\">\n"
        out += "<title>Funnel plot, k = \(points.filter { !$0.filled }.count)</title>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" fill=\"#ffffff\"/>\n"
        // The pseudo-confidence region, clipped to the plotting area.
        let apex = (x(estimate), y(0))
        let baseLeft = (x(estimate - z * maxStandardError), y(maxStandardError))
        let baseRight = (x(estimate + z * maxStandardError), y(maxStandardError))
        out += "<clipPath id=\"plot-area\"><rect x=\"\(SVG.coordinate(left))\" y=\"\(SVG.coordinate(top))\" width=\"\(SVG.coordinate(right - left))\" height=\"\(SVG.coordinate(bottom - top))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#plot-area)\">\n"
        out += "<polygon class=\"funnel\" data-estimate=\"\(estimate)\" data-z=\"\(z)\" points=\"\(SVG.coordinate(apex.0)),\(SVG.coordinate(apex.1)) \(SVG.coordinate(baseLeft.0)),\(SVG.coordinate(baseLeft.1)) \(SVG.coordinate(baseRight.0)),\(SVG.coordinate(baseRight.1))\" fill=\"#eef2f8\" stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"4,3\"/>\n"
        out += "<line class=\"estimate\" data-value=\"\(estimate)\" x1=\"\(SVG.coordinate(x(estimate)))\" y1=\"\(SVG.coordinate(top))\" x2=\"\(SVG.coordinate(x(estimate)))\" y2=\"\(SVG.coordinate(bottom))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        for p in points {
            let fill = p.filled ? "#ffffff" : "#1a1a1a"
            out += "<circle class=\"\(p.filled ? "point filled" : "point")\" data-label=\"\(SafeText.xml(p.label))\" data-effect=\"\(p.effect)\" data-se=\"\(p.standardError)\" cx=\"\(SVG.coordinate(x(p.effect)))\" cy=\"\(SVG.coordinate(y(p.standardError)))\" r=\"4\" fill=\"\(fill)\" stroke=\"#000\" stroke-width=\"1\"><title>\(SafeText.xml(p.label))</title></circle>\n"
        }
        out += "</g>\n"
        // Axes.
        out += "<rect x=\"\(SVG.coordinate(left))\" y=\"\(SVG.coordinate(top))\" width=\"\(SVG.coordinate(right - left))\" height=\"\(SVG.coordinate(bottom - top))\" fill=\"none\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        out += "<g class=\"x-axis\" data-lower=\"\(effectLower)\" data-upper=\"\(effectUpper)\" data-x0=\"\(SVG.coordinate(left))\" data-x1=\"\(SVG.coordinate(right))\">\n"
        for t in effectTicks {
            out += "<line class=\"tick\" x1=\"\(SVG.coordinate(x(t)))\" y1=\"\(SVG.coordinate(bottom))\" x2=\"\(SVG.coordinate(x(t)))\" y2=\"\(SVG.coordinate(bottom + 5))\" stroke=\"#000\"/>\n"
            out += "<text x=\"\(SVG.coordinate(x(t)))\" y=\"\(SVG.coordinate(bottom + 5 + f))\" text-anchor=\"middle\" font-size=\"11\">\(SVG.tick(t))</text>\n"
        }
        out += "<text x=\"\(SVG.coordinate((left + right) / 2))\" y=\"\(SVG.coordinate(bottom + 38))\" text-anchor=\"middle\">\(SafeText.xml(effectLabel))</text>\n</g>\n"
        out += "<g class=\"y-axis\" data-lower=\"0\" data-upper=\"\(maxStandardError)\" data-y0=\"\(SVG.coordinate(top))\" data-y1=\"\(SVG.coordinate(bottom))\">\n"
        for t in standardErrorTicks {
            out += "<line class=\"tick\" x1=\"\(SVG.coordinate(left - 5))\" y1=\"\(SVG.coordinate(y(t)))\" x2=\"\(SVG.coordinate(left))\" y2=\"\(SVG.coordinate(y(t)))\" stroke=\"#000\"/>\n"
            out += "<text x=\"\(SVG.coordinate(left - 8))\" y=\"\(SVG.coordinate(y(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(SVG.tick(t))</text>\n"
        }
        out += "<text x=\"18\" y=\"\(SVG.coordinate((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(SVG.coordinate((top + bottom) / 2)))\">Standard Error</text>\n</g>\n"
        out += "</svg>\n"
        return out
    }
}
