// The posterior densities of a Bayesian fit drawn as SVG: μ with the posterior predictive density
// of a new study's θ, and τ with its prior. Curves are the model's own densities evaluated on a
// grid; medians and central credible intervals are marked.

import RealModule

/// A plot of one or more densities on a shared axis (the analysis scale), as a standalone SVG.
public struct PosteriorDensityPlot: Sendable {
    /// One density curve.
    public struct Curve: Sendable {
        /// What the curve is, as its `data-curve` attribute and legend name it ("mu", "prediction", "tau", "prior").
        public let name: String
        /// The legend text.
        public let legend: String
        /// The grid and the density at each point.
        public let x: [Double], density: [Double]
        /// The posterior median and central credible interval marked under the curve (`nil` for a prior).
        public let median: Double?, interval: Interval?
        /// Stroke colour and dash pattern.
        let stroke: String, dash: String?
    }

    /// The plot's title, e.g. "Posterior of μ".
    public let title: String
    /// The axis title.
    public let axisLabel: String
    /// The curves, the first drawn last (on top).
    public let curves: [Curve]
    /// The axis domain.
    public let lower: Double, upper: Double

    /// The number of grid points of each curve.
    public static let gridPoints = 241

    static func grid(_ lower: Double, _ upper: Double) -> [Double] {
        (0..<gridPoints).map { lower + (upper - lower) * Double($0) / Double(gridPoints - 1) }
    }

    /// μ's posterior density and the posterior predictive density of a new study's θ, on the analysis
    /// scale, over the central 99.9% of μ's and 99.5% of the predictive distribution's mass.
    public static func mu(_ posterior: any BayesianPosterior, summary: BayesianMetaAnalysisSummary, measure: EffectMeasure) -> PosteriorDensityPlot {
        let lo = min(posterior.muQuantile(0.0005), posterior.predictiveQuantile(0.0025))
        let hi = max(posterior.muQuantile(0.9995), posterior.predictiveQuantile(0.9975))
        let x = grid(lo, hi)
        let percent = Self.percent(summary.level)
        return PosteriorDensityPlot(
            title: "Posterior of μ and of a new study's θ", axisLabel: "μ, θ_new (\(measure.analysisScaleName))",
            curves: [Curve(name: "mu", legend: "μ: median \(SVG.fixed(summary.mu.median, digits: 3)), \(percent) CrI [\(SVG.fixed(summary.mu.central.lower, digits: 3)), \(SVG.fixed(summary.mu.central.upper, digits: 3))]",
                           x: x, density: x.map(posterior.muDensity), median: summary.mu.median, interval: summary.mu.central,
                           stroke: "#1a1a1a", dash: nil),
                     Curve(name: "prediction", legend: "θ_new (posterior predictive): median \(SVG.fixed(summary.prediction.median, digits: 3)), \(percent) CrI [\(SVG.fixed(summary.prediction.central.lower, digits: 3)), \(SVG.fixed(summary.prediction.central.upper, digits: 3))]",
                           x: x, density: x.map(posterior.predictiveDensity), median: summary.prediction.median,
                           interval: summary.prediction.central, stroke: "#c0392b", dash: "5,3")],
            lower: lo, upper: hi)
    }

    /// τ's posterior density from 0 to its 99.5% quantile, with the prior density (where proper) for comparison.
    public static func tau(_ posterior: any BayesianPosterior, summary: BayesianMetaAnalysisSummary) -> PosteriorDensityPlot {
        var hi = posterior.tauQuantile(0.995)
        if !(hi > 0 && hi.isFinite) { hi = max(summary.tau.central.upper, 1) }
        let x = grid(0, hi)
        let percent = Self.percent(summary.level)
        var curves = [Curve(name: "tau", legend: "τ: median \(SVG.fixed(summary.tau.median, digits: 3)), \(percent) CrI [\(SVG.fixed(summary.tau.central.lower, digits: 3)), \(SVG.fixed(summary.tau.central.upper, digits: 3))]",
                            x: x, density: x.map(posterior.tauDensity), median: summary.tau.median, interval: summary.tau.central,
                            stroke: "#1a1a1a", dash: nil)]
        if posterior.tauPrior.density(0) != nil {
            curves.append(Curve(name: "prior", legend: "prior: τ ~ \(posterior.tauPrior.notation)", x: x,
                                density: x.map { posterior.tauPrior.density($0) ?? 0 }, median: nil, interval: nil,
                                stroke: "#3b5b92", dash: "2,3"))
        }
        return PosteriorDensityPlot(title: "Posterior of τ", axisLabel: "τ (between-study SD)", curves: curves, lower: 0, upper: hi)
    }

    static func percent(_ level: Double) -> String {
        let p = level * 100
        return (p == p.rounded() ? String(Int(p)) : SVG.tick(p)) + "%"
    }

    /// A standalone SVG document: the curves as polylines (`class="density"`, `data-curve`), the
    /// median of each posterior as a vertical line and its central credible interval as a bar under
    /// the axis (`class="median"`, `class="credible"`, values in `data-*`), the axis and a legend.
    /// The plot area's geometry is in `data-x0 data-x1 data-y0 data-y1` (px) and `data-lower
    /// data-upper data-ymax` (values), so that tests and scripts can read positions back.
    public func svg() -> String {
        let (width, left, right, top) = (560.0, 48.0, 24.0, 34.0)
        let plotHeight = 180.0
        let (x0, x1) = (left, width - right)
        let y1 = top, y0 = top + plotHeight
        let peak = curves.flatMap(\.density).filter(\.isFinite).max() ?? 1
        let yMax = peak > 0 ? peak * 1.05 : 1
        func px(_ v: Double) -> Double { x0 + (v - lower) / (upper - lower) * (x1 - x0) }
        func py(_ d: Double) -> Double { y0 - min(max(d, 0), yMax) / yMax * (y0 - y1) }
        let barsTop = y0 + 46
        let legendTop = barsTop + Double(curves.filter { $0.interval != nil }.count) * 10 + 16
        let height = legendTop + Double(curves.count) * 16 + 10
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"density-plot\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" font-family=\"\(SVG.fontFamily)\" font-size=\"12\">\n"
        out += "<title>\(SafeText.xml(title))</title>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(SVG.coordinate(left))\" y=\"20\" font-weight=\"bold\">\(SafeText.xml(title))</text>\n"
        out += "<g class=\"plot-area\" data-x0=\"\(x0)\" data-x1=\"\(x1)\" data-y0=\"\(y0)\" data-y1=\"\(y1)\" data-lower=\"\(lower)\" data-upper=\"\(upper)\" data-ymax=\"\(yMax)\">\n"
        // The curves, the first on top; each point at full precision in px to two decimals.
        for c in curves.reversed() {
            let points = zip(c.x, c.density).filter { $0.1.isFinite }.map { "\(SVG.coordinate(px($0.0))),\(SVG.coordinate(py($0.1)))" }
            out += "<polyline class=\"density\" data-curve=\"\(c.name)\" fill=\"none\" stroke=\"\(c.stroke)\" stroke-width=\"1.6\"\(c.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") points=\"\(points.joined(separator: " "))\"/>\n"
        }
        // Medians: a vertical line from the axis to the curve.
        for c in curves {
            guard let m = c.median, m >= lower, m <= upper, let i = c.x.indices.min(by: { abs(c.x[$0] - m) < abs(c.x[$1] - m) }) else { continue }
            out += "<line class=\"median\" data-curve=\"\(c.name)\" data-value=\"\(m)\" x1=\"\(SVG.coordinate(px(m)))\" y1=\"\(SVG.coordinate(y0))\" x2=\"\(SVG.coordinate(px(m)))\" y2=\"\(SVG.coordinate(py(c.density[i])))\" stroke=\"\(c.stroke)\" stroke-width=\"1\"\(c.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>\n"
        }
        out += "</g>\n"
        // The axis with 1-2-5 ticks.
        out += "<g class=\"axis\">\n<line x1=\"\(SVG.coordinate(x0))\" y1=\"\(SVG.coordinate(y0))\" x2=\"\(SVG.coordinate(x1))\" y2=\"\(SVG.coordinate(y0))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        for t in Self.ticks(lower, upper) {
            out += "<line class=\"tick\" data-value=\"\(t)\" x1=\"\(SVG.coordinate(px(t)))\" y1=\"\(SVG.coordinate(y0))\" x2=\"\(SVG.coordinate(px(t)))\" y2=\"\(SVG.coordinate(y0 + 4))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
            out += "<text x=\"\(SVG.coordinate(px(t)))\" y=\"\(SVG.coordinate(y0 + 16))\" text-anchor=\"middle\" font-size=\"11\">\(SVG.tick(t))</text>\n"
        }
        out += "<text x=\"\(SVG.coordinate((x0 + x1) / 2))\" y=\"\(SVG.coordinate(y0 + 30))\" text-anchor=\"middle\" class=\"axis-label\">\(SafeText.xml(axisLabel))</text>\n</g>\n"
        // Credible intervals as bars under the axis label.
        var y = barsTop
        for c in curves {
            guard let i = c.interval else { continue }
            let (l, u) = (max(px(i.lower), x0), min(px(i.upper), x1))
            out += "<line class=\"credible\" data-curve=\"\(c.name)\" data-lower=\"\(i.lower)\" data-upper=\"\(i.upper)\" x1=\"\(SVG.coordinate(l))\" y1=\"\(SVG.coordinate(y))\" x2=\"\(SVG.coordinate(u))\" y2=\"\(SVG.coordinate(y))\" stroke=\"\(c.stroke)\" stroke-width=\"4\"/>\n"
            y += 10
        }
        y = legendTop
        for c in curves {
            out += "<line x1=\"\(SVG.coordinate(left))\" y1=\"\(SVG.coordinate(y - 4))\" x2=\"\(SVG.coordinate(left + 24))\" y2=\"\(SVG.coordinate(y - 4))\" stroke=\"\(c.stroke)\" stroke-width=\"1.6\"\(c.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>\n"
            out += "<text class=\"legend\" x=\"\(SVG.coordinate(left + 30))\" y=\"\(SVG.coordinate(y))\" font-size=\"11\">\(SafeText.xml(c.legend))</text>\n"
            y += 16
        }
        out += "</svg>\n"
        return out
    }

    /// Ticks at 1, 2 or 5 × 10ⁿ steps, four to ten of them.
    static func ticks(_ lower: Double, _ upper: Double) -> [Double] {
        let span = upper - lower
        guard span > 0, span.isFinite else { return [lower] }
        let raw = span / 6
        let magnitude = Double.pow(10, Double.log10(raw).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { span / $0 <= 8 } ?? 10 * magnitude
        var t = (lower / step).rounded(.up) * step
        var ticks: [Double] = []
        while t <= upper + step * 1e-9 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return ticks
    }
}
