// Drawing a ForestPlot as a standalone SVG document, in the layout of RevMan and R's meta.

/// Layout constants of the forest plot, in px.
private enum Layout {
    static let fontSize = 12.0
    static let smallFontSize = 11.0
    static let rowHeight = 20.0
    static let margin = 16.0
    static let plotWidth = 320.0
    static let plotPadding = 10.0
    static let columnGap = 18.0
    static let maxSquare = 14.0
    static let minSquare = 3.0
    static let diamondHalfHeight = 6.0
}

extension ForestPlot {
    /// The estimate column's header, e.g. "Proportion [95% CI]".
    var estimateHeader: String {
        let percent = level * 100
        let text = percent == percent.rounded() ? String(Int(percent)) : SVG.tick(percent)
        let name: String = switch measure.family {
        case .proportion: "Proportion"
        case .twoGroup: measure.rawValue
        case .hazardRatio: "HR"
        case .generic: "Estimate"
        }
        return "\(name) [\(text)% CI]"
    }

    static func interval(_ estimate: Double, _ lower: Double, _ upper: Double) -> String {
        "\(SVG.fixed(estimate, digits: 2)) [\(SVG.fixed(lower, digits: 2)), \(SVG.fixed(upper, digits: 2))]"
    }

    /// The count cells of a study: "Events", "Total" or "Treatment", "Control" (e/n).
    func countCells(_ s: Study) -> [String] {
        let value = Dictionary(s.inputs, uniquingKeysWith: { a, _ in a })
        switch measure.family {
        case .proportion: return [value["events"] ?? "", value["total"] ?? ""]
        case .twoGroup:
            return ["\(value["treat_events"] ?? "")/\(value["treat_total"] ?? "")",
                    "\(value["control_events"] ?? "")/\(value["control_total"] ?? "")"]
        default: return []
        }
    }

    /// The heterogeneity line under the plot: τ², I², Q with df and p.
    var heterogeneityText: String {
        var parts: [String] = []
        if let t = threeLevel {
            parts.append("σ²₁ = \(SVG.fixed(t.clusterVariance, digits: 4)) (between \(t.column)), σ²₂ = \(SVG.fixed(t.cohortVariance, digits: 4)) (within)")
        } else if let tau2 = overall.tauSquared { parts.append("τ² = \(SVG.fixed(tau2, digits: 4))") }
        if let i2 = overall.iSquared { parts.append("I² = \(SVG.fixed(i2, digits: 1))%") }
        if let q = overall.q, let df = overall.qDegreesOfFreedom, let p = overall.qPValue {
            parts.append("Q = \(SVG.fixed(q, digits: 2)), df = \(df) (\(SVG.pValue(p)))")
        }
        return "Heterogeneity: " + parts.joined(separator: "; ")
    }

    /// The test for subgroup differences, as text.
    var subgroupTestText: String? {
        guard let t = subgroupTest else { return nil }
        let df = t.denominatorDegreesOfFreedom.map { "df = \(t.degreesOfFreedom), \($0)" } ?? "df = \(t.degreesOfFreedom)"
        let what = commonTauSquared ? "Test for subgroup differences (common τ²)" : "Test for subgroup differences"
        return "\(what): \(t.name) = \(SVG.fixed(t.statistic, digits: 2)), \(df) (\(SVG.pValue(t.pValue)))"
    }

    /// A standalone SVG document (UTF-8): study column, counts, the plot, estimate [CI] and
    /// weight; squares sized by weight (area ∝ weight), diamonds, the prediction interval, the
    /// null line, the axis, the heterogeneity line and the test for subgroup differences.
    /// Elements carry `class` and `data-*` attributes (estimates and CIs on the natural scale)
    /// so that tests and scripts can check the geometry.
    public func svg() -> String {
        let f = Layout.fontSize
        let studies = self.studies
        // Column widths from the text they hold.
        var labels = rows.map { row -> String in
            switch row {
            case .subgroupHeader(let l): l
            case .study(let s): s.label
            case .subgroupDiamond(let d): d.isCluster ? "Cohorts pooled (k = \(d.k))" : "Subgroup model (k = \(d.k))"
            }
        }
        labels += ["Study", overall.label, predictionIntervalLabel]
        let studyWidth = (labels.map { SVG.textWidth($0, size: f) }.max() ?? 40) + Layout.columnGap
        var countWidths: [Double] = countHeaders.map { SVG.textWidth($0, size: f) }
        for s in studies {
            for (i, cell) in countCells(s).enumerated() where i < countWidths.count {
                countWidths[i] = max(countWidths[i], SVG.textWidth(cell, size: f))
            }
        }
        countWidths = countWidths.map { $0 + Layout.columnGap }
        var estimateTexts = studies.map { Self.interval($0.estimate, $0.shownLower, $0.shownUpper) }
        estimateTexts.append(Self.interval(overall.estimate, overall.ciLower, overall.ciUpper))
        estimateTexts.append(estimateHeader)
        let estimateWidth = (estimateTexts.map { SVG.textWidth($0, size: f) }.max() ?? 100) + Layout.columnGap
        // A Bayesian plot's last column is the shrinkage estimate [credible interval], not the weight.
        let shrinkage = bayesian?.shrinkage
        let lastHeader = shrinkage == nil ? "Weight" : shrinkageHeader
        let shrinkageTexts = shrinkage?.map { s in s.map { Self.interval($0.median, $0.lower, $0.upper) } ?? "–" } ?? []
        let weightWidth = ((shrinkageTexts + [lastHeader]).map { SVG.textWidth($0, size: f) }.max() ?? 0) + Layout.columnGap * (shrinkage == nil ? 1 : 2)

        let xStudy = Layout.margin
        var xCounts: [Double] = []
        var x = xStudy + studyWidth
        for w in countWidths { xCounts.append(x + w - Layout.columnGap / 2); x += w }  // right edges
        let plotX0 = x + Layout.plotPadding
        let plotX1 = plotX0 + Layout.plotWidth
        let xEstimate = plotX1 + Layout.plotPadding + Layout.columnGap / 2
        let xWeight = xEstimate + estimateWidth + weightWidth - Layout.columnGap / 2  // right edge
        var width = xWeight + Layout.margin
        let footer = (bayesianFooter ?? [heterogeneityText]) + (subgroupTestText.map { [$0] } ?? []) + footnotes + [intervalLegend]
        width = max(width, (footer.map { SVG.textWidth($0, size: Layout.smallFontSize) }.max() ?? 0) + 2 * Layout.margin)

        func position(_ value: Double) -> Double { plotX0 + axis.fraction(value) * (plotX1 - plotX0) }
        let maxWeight = studies.compactMap(\.weight).max() ?? 1

        var body = ""
        var y = Layout.margin + f
        // Header.
        body += text("Study", x: xStudy, y: y, bold: true)
        for (i, h) in countHeaders.enumerated() { body += text(h, x: xCounts[i], y: y, anchor: "end", bold: true) }
        body += text(estimateHeader, x: xEstimate, y: y, bold: true)
        body += text(lastHeader, x: xWeight, y: y, anchor: "end", bold: true)
        y += 8
        body += "<line class=\"rule\" x1=\"\(SVG.coordinate(xStudy))\" y1=\"\(SVG.coordinate(y))\" x2=\"\(SVG.coordinate(width - Layout.margin))\" y2=\"\(SVG.coordinate(y))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        let rowsTop = y
        y += Layout.rowHeight * 0.5

        func diamond(_ d: Diamond, kind: String, y: Double) -> String {
            let h = Layout.diamondHalfHeight
            let (l, e, u) = (position(d.ciLower), position(d.estimate), position(d.ciUpper))
            let fill = kind == "overall" ? "#1a1a1a" : "#8c8c8c"
            return "<polygon class=\"diamond\" data-kind=\"\(kind)\" data-estimate=\"\(d.estimate)\" data-lower=\"\(d.ciLower)\" data-upper=\"\(d.ciUpper)\" points=\"\(SVG.coordinate(l)),\(SVG.coordinate(y)) \(SVG.coordinate(e)),\(SVG.coordinate(y - h)) \(SVG.coordinate(u)),\(SVG.coordinate(y)) \(SVG.coordinate(e)),\(SVG.coordinate(y + h))\" fill=\"\(fill)\" stroke=\"#000\" stroke-width=\"0.8\"/>\n"
        }

        var firstBlock = true
        for (rowIndex, row) in rows.enumerated() {
            // The study's index in the fit (rows of subgroups are in block order).
            let studyIndex = rows.layout?[rowIndex] ?? rowIndex
            switch row {
            case .subgroupHeader(let label):
                if !firstBlock { y += Layout.rowHeight * 0.5 }
                firstBlock = false
                y += Layout.rowHeight
                body += text(label, x: xStudy, y: y + 4, bold: true, cssClass: "subgroup-header")
            case .study(let s):
                y += Layout.rowHeight
                let baseline = y + 4
                body += "<g class=\"study\" data-label=\"\(SafeText.xml(s.label))\">\n"
                body += text(s.label, x: xStudy, y: baseline)
                for (i, cell) in countCells(s).enumerated() where i < xCounts.count {
                    body += text(cell, x: xCounts[i], y: baseline, anchor: "end")
                }
                if let shrinkage, studyIndex >= 0, studyIndex < shrinkage.count {
                    // The observed effect above, its shrinkage estimate below (Röver 2020, §2).
                    body += studyGraphic(s, y: y - 3.5, plotX0: plotX0, plotX1: plotX1, position: position, maxWeight: maxWeight)
                    if let b = shrinkage[studyIndex] {
                        body += shrinkageGraphic(b, index: studyIndex, y: y + 3.5, plotX0: plotX0, plotX1: plotX1, position: position)
                    }
                    body += text(Self.interval(s.estimate, s.shownLower, s.shownUpper), x: xEstimate, y: baseline)
                    body += text(shrinkageTexts[studyIndex], x: xWeight, y: baseline, anchor: "end", cssClass: "shrinkage-text")
                } else {
                    body += studyGraphic(s, y: y, plotX0: plotX0, plotX1: plotX1, position: position, maxWeight: maxWeight)
                    body += text(Self.interval(s.estimate, s.shownLower, s.shownUpper), x: xEstimate, y: baseline)
                    body += text(s.weight.map { SVG.fixed($0, digits: 1) + "%" } ?? "–", x: xWeight, y: baseline, anchor: "end")
                }
                body += "</g>\n"
            case .subgroupDiamond(let d):
                y += Layout.rowHeight
                body += text(d.isCluster ? "Cohorts pooled (k = \(d.k))" : "Subgroup model (k = \(d.k))", x: xStudy, y: y + 4, italic: true)
                body += diamond(d, kind: "subgroup", y: y)
                body += text(Self.interval(d.estimate, d.ciLower, d.ciUpper), x: xEstimate, y: y + 4, italic: true)
                if let w = d.weight { body += text(SVG.fixed(w, digits: 1) + "%", x: xWeight, y: y + 4, anchor: "end", italic: true) }
                var parts: [String] = []
                if let tau2 = d.tauSquared {
                    parts.append((d.isCluster ? "σ²₂ = " : commonTauSquared ? "common τ² = " : "τ² = ") + SVG.fixed(tau2, digits: 4))
                }
                if let i2 = d.iSquared { parts.append("I² = \(SVG.fixed(i2, digits: 1))%") }
                if let p = d.qPValue, d.k > 1 { parts.append("Q " + SVG.pValue(p)) }
                if !parts.isEmpty {
                    y += Layout.rowHeight * 0.8
                    body += text("Heterogeneity: " + parts.joined(separator: ", "), x: xStudy, y: y + 4, size: Layout.smallFontSize, cssClass: "subgroup-heterogeneity")
                }
            }
        }
        y += Layout.rowHeight * (subgroupTest == nil ? 1.2 : 1.7)
        body += text(overall.label, x: xStudy, y: y + 4, bold: true)
        body += diamond(overall, kind: "overall", y: y)
        body += text(Self.interval(overall.estimate, overall.ciLower, overall.ciUpper), x: xEstimate, y: y + 4, bold: true)
        if overall.weight != nil { body += text("100.0%", x: xWeight, y: y + 4, anchor: "end", bold: true) }
        let overallY = y
        if let pi = predictionInterval {
            y += Layout.rowHeight
            let (l, u) = (max(position(pi.lower), plotX0), min(position(pi.upper), plotX1))
            body += text(predictionIntervalLabel, x: xStudy, y: y + 4)
            body += "<line class=\"pi\" data-lower=\"\(pi.lower)\" data-upper=\"\(pi.upper)\" x1=\"\(SVG.coordinate(l))\" y1=\"\(SVG.coordinate(y))\" x2=\"\(SVG.coordinate(u))\" y2=\"\(SVG.coordinate(y))\" stroke=\"#c0392b\" stroke-width=\"4\"/>\n"
            body += text("[\(SVG.fixed(pi.lower, digits: 2)), \(SVG.fixed(pi.upper, digits: 2))]", x: xEstimate, y: y + 4)
        }
        y += Layout.rowHeight
        let axisY = y
        // Reference lines behind everything: the null value and the overall estimate.
        var lines = ""
        if let null = axis.nullValue, null >= min(axis.lower, axis.upper), null <= max(axis.lower, axis.upper) {
            let nx = SVG.coordinate(position(null))
            lines += "<line class=\"null\" data-value=\"\(null)\" x1=\"\(nx)\" y1=\"\(SVG.coordinate(rowsTop))\" x2=\"\(nx)\" y2=\"\(SVG.coordinate(axisY))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        }
        let ox = SVG.coordinate(position(overall.estimate))
        lines += "<line class=\"overall-line\" x1=\"\(ox)\" y1=\"\(SVG.coordinate(rowsTop))\" x2=\"\(ox)\" y2=\"\(SVG.coordinate(overallY))\" stroke=\"#808080\" stroke-width=\"0.8\" stroke-dasharray=\"3,3\"/>\n"
        // The axis.
        var axisSVG = "<g class=\"axis\" data-scale=\"\(axis.scale.rawValue)\" data-lower=\"\(axis.lower)\" data-upper=\"\(axis.upper)\" data-x0=\"\(SVG.coordinate(plotX0))\" data-x1=\"\(SVG.coordinate(plotX1))\">\n"
        axisSVG += "<line x1=\"\(SVG.coordinate(plotX0))\" y1=\"\(SVG.coordinate(axisY))\" x2=\"\(SVG.coordinate(plotX1))\" y2=\"\(SVG.coordinate(axisY))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
        for t in axis.ticks {
            let tx = SVG.coordinate(position(t))
            axisSVG += "<line class=\"tick\" data-value=\"\(t)\" x1=\"\(tx)\" y1=\"\(SVG.coordinate(axisY))\" x2=\"\(tx)\" y2=\"\(SVG.coordinate(axisY + 5))\" stroke=\"#000\" stroke-width=\"1\"/>\n"
            axisSVG += text(SVG.tick(t), x: position(t), y: axisY + 5 + f, anchor: "middle", size: Layout.smallFontSize, cssClass: "tick-label")
        }
        axisSVG += text(axis.label, x: (plotX0 + plotX1) / 2, y: axisY + 10 + 2 * f, anchor: "middle", cssClass: "axis-label")
        axisSVG += "</g>\n"
        y = axisY + 10 + 2 * f + 8
        var footerSVG = ""
        for line in footer {
            y += Layout.rowHeight * 0.9
            footerSVG += text(line, x: xStudy, y: y, size: Layout.smallFontSize, cssClass: "footer")
        }
        let height = y + Layout.margin
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"forest-plot\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" viewBox=\"0 0 \(SVG.coordinate(width)) \(SVG.coordinate(height))\" font-family=\"\(SVG.fontFamily)\" font-size=\"\(SVG.coordinate(f))\">\n"
        out += "<title>Forest plot: \(SafeText.xml(overall.label)), k = \(overall.k)</title>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(SVG.coordinate(width))\" height=\"\(SVG.coordinate(height))\" fill=\"#ffffff\"/>\n"
        out += lines + body + axisSVG + footerSVG + "</svg>\n"
        return out
    }

    /// A study's CI line (clipped to the axis with an arrow) and its weight-sized square.
    private func studyGraphic(_ s: Study, y: Double, plotX0: Double, plotX1: Double, position: (Double) -> Double,
                              maxWeight: Double) -> String {
        var out = ""
        // The interval shown: by default exact for proportions, as published for hazard ratios.
        var l = position(s.shownLower), u = position(s.shownUpper)
        if !l.isFinite { l = plotX0 - 1 }
        if !u.isFinite { u = plotX1 + 1 }
        let clippedLeft = l < plotX0, clippedRight = u > plotX1
        let (cl, cu) = (max(l, plotX0), min(u, plotX1))
        out += "<line class=\"ci\" data-lower=\"\(s.shownLower)\" data-upper=\"\(s.shownUpper)\" x1=\"\(SVG.coordinate(cl))\" y1=\"\(SVG.coordinate(y))\" x2=\"\(SVG.coordinate(cu))\" y2=\"\(SVG.coordinate(y))\" stroke=\"#000\" stroke-width=\"1.2\"/>\n"
        if clippedLeft {
            out += "<polygon class=\"arrow\" points=\"\(SVG.coordinate(plotX0)),\(SVG.coordinate(y)) \(SVG.coordinate(plotX0 + 6)),\(SVG.coordinate(y - 3.5)) \(SVG.coordinate(plotX0 + 6)),\(SVG.coordinate(y + 3.5))\" fill=\"#000\"/>\n"
        }
        if clippedRight {
            out += "<polygon class=\"arrow\" points=\"\(SVG.coordinate(plotX1)),\(SVG.coordinate(y)) \(SVG.coordinate(plotX1 - 6)),\(SVG.coordinate(y - 3.5)) \(SVG.coordinate(plotX1 - 6)),\(SVG.coordinate(y + 3.5))\" fill=\"#000\"/>\n"
        }
        // Without study weights (the GLMM) every square has the middle size.
        let share = s.weight.map { max($0, 0) / max(maxWeight, 1e-300) } ?? 0.25
        let side = max(Layout.minSquare, Layout.maxSquare * share.squareRoot())
        let cx = min(max(position(s.estimate), plotX0), plotX1)
        let weightAttribute = s.weight.map { " data-weight=\"\($0)\"" } ?? ""
        out += "<rect class=\"square\" data-estimate=\"\(s.estimate)\"\(weightAttribute) x=\"\(SVG.coordinate(cx - side / 2))\" y=\"\(SVG.coordinate(y - side / 2))\" width=\"\(SVG.coordinate(side))\" height=\"\(SVG.coordinate(side))\" fill=\"#3b5b92\"/>\n"
        return out
    }

    /// A study's shrinkage estimate: its central credible interval as a dashed line (clipped to the
    /// axis) and its posterior median as a circle, drawn under the observed effect.
    private func shrinkageGraphic(_ b: Bayesian.Shrinkage, index: Int, y: Double, plotX0: Double, plotX1: Double,
                                  position: (Double) -> Double) -> String {
        var l = position(b.lower), u = position(b.upper)
        if !l.isFinite { l = plotX0 }
        if !u.isFinite { u = plotX1 }
        let (cl, cu) = (min(max(l, plotX0), plotX1), max(min(u, plotX1), plotX0))
        let cx = min(max(position(b.median), plotX0), plotX1)
        var out = "<line class=\"shrinkage-ci\" data-study=\"\(index)\" data-lower=\"\(b.lower)\" data-upper=\"\(b.upper)\" x1=\"\(SVG.coordinate(cl))\" y1=\"\(SVG.coordinate(y))\" x2=\"\(SVG.coordinate(cu))\" y2=\"\(SVG.coordinate(y))\" stroke=\"#d35400\" stroke-width=\"1.2\" stroke-dasharray=\"3,2\"/>\n"
        out += "<circle class=\"shrinkage\" data-study=\"\(index)\" data-median=\"\(b.median)\" data-lower=\"\(b.lower)\" data-upper=\"\(b.upper)\" cx=\"\(SVG.coordinate(cx))\" cy=\"\(SVG.coordinate(y))\" r=\"3\" fill=\"#ffffff\" stroke=\"#d35400\" stroke-width=\"1.5\"/>\n"
        return out
    }

    private func text(_ content: String, x: Double, y: Double, anchor: String = "start", bold: Bool = false,
                      italic: Bool = false, size: Double? = nil, cssClass: String? = nil) -> String {
        var attributes = "x=\"\(SVG.coordinate(x))\" y=\"\(SVG.coordinate(y))\""
        if anchor != "start" { attributes += " text-anchor=\"\(anchor)\"" }
        if bold { attributes += " font-weight=\"bold\"" }
        if italic { attributes += " font-style=\"italic\"" }
        if let size { attributes += " font-size=\"\(SVG.coordinate(size))\"" }
        if let cssClass { attributes += " class=\"\(cssClass)\"" }
        return "<text \(attributes)>\(SafeText.xml(content))</text>\n"
    }
}

extension ForestPlot {
    /// The header of a Bayesian plot's shrinkage column, e.g. "Shrinkage [95% CrI]".
    var shrinkageHeader: String {
        let percent = level * 100
        return "Shrinkage [\(percent == percent.rounded() ? String(Int(percent)) : SVG.tick(percent))% CrI]"
    }

    /// "Prediction interval (t on 3 df)": the row's label names how the interval was formed.
    var predictionIntervalLabel: String {
        predictionIntervalMethod.map { "Prediction interval (\($0))" } ?? "Prediction interval"
    }
}
