// Tests that look at the plots: the forest and funnel SVGs parse as XML, their geometry matches
// the fitted numbers (each square at its estimate, each CI line across its CI, the diamond across
// the pooled CI, ticks where their values fall), and real renderers (rsvg-convert, headless
// Chromium for the report) draw them as non-blank pictures.

import Foundation
import FoundationXML
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Forest and funnel plots: XML, geometry, rendering")
struct PlotTests {
    static let repository = FixtureFolder.root

    static func table(_ name: String) throws -> DataTable {
        try DataTable.read(path: repository.appendingPathComponent("Datasets/\(name)").path)
    }

    /// The README's drug-class analysis: the intracranial endpoints of the experimental arms.
    static func intracranialExperimental() throws -> DataTable {
        try table("her2-bm-intracranial-response.csv").selecting(
            ["endpoint=IC-ORR", "endpoint=CNS-ORR", "role=experimental"].map { try #require(RowCondition(parsing: $0)) })
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-plots-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Checks every square, CI line, diamond, PI and tick of a forest SVG against the plot data
    /// and the fitted model.
    static func checkGeometry(_ plot: ForestPlot, fit: MetaAnalysis) throws {
        let doc = try SVGCheck.parse(plot.svg())
        let axis = try SVGCheck.axis(doc)
        #expect(axis.lower == plot.axis.lower && axis.upper == plot.axis.upper)
        let squares = try SVGCheck.elements(doc, "//*[local-name()='rect'][@class='square']")
        let lines = try SVGCheck.elements(doc, "//*[local-name()='line'][@class='ci']")
        #expect(squares.count == fit.count && lines.count == fit.count)
        // The plot's studies are the model's, back-transformed, in row order.
        let z = 1.959963984540054
        let pairs = Set(zip(fit.effects.yi, fit.effects.vi).map { "\($0) \($1)" })
        #expect(plot.studies.count == fit.count)
        for s in plot.studies {
            let (y, v) = (s.yi, s.vi)
            #expect(pairs.contains("\(y) \(v)"), "\(s.label): the plot's (yi, vi) are the model's")
            if fit.effects.measure != .freemanTukeyProportion {
                #expect(abs(s.estimate - fit.backTransform(y)) <= 1e-12 * max(1, abs(s.estimate)), "\(s.label) estimate")
                if fit.level == 0.95 {
                    #expect(abs(s.ciLower - fit.backTransform(y - z * v.squareRoot())) <= 1e-9 * max(1, abs(s.ciLower)), "\(s.label) ci")
                }
            }
        }
        for (square, line) in zip(squares, lines) {
            let estimate = try #require(SVGCheck.double(square, "data-estimate"))
            let (x, w) = (try #require(SVGCheck.double(square, "x")), try #require(SVGCheck.double(square, "width")))
            let expected = min(max(axis.x(estimate), axis.x0), axis.x1)
            expectClose(x + w / 2, expected, relative: 0, absolute: 0.02, "square at \(x + w / 2), estimate \(estimate) maps to \(expected)")
            let (lower, upper) = (try #require(SVGCheck.double(line, "data-lower")), try #require(SVGCheck.double(line, "data-upper")))
            #expect(lower <= estimate && estimate <= upper)
            expectClose(SVGCheck.double(line, "x1"), max(axis.x(lower), axis.x0), relative: 0, absolute: 0.02, "CI lower end")
            expectClose(SVGCheck.double(line, "x2"), min(axis.x(upper), axis.x1), relative: 0, absolute: 0.02, "CI upper end")
            expectClose(try #require(SVGCheck.double(square, "y")) + w / 2, SVGCheck.double(line, "y1"), relative: 0, absolute: 0.02, "square on its CI line")
        }
        // Larger weight, larger square (area ∝ weight).
        let sides = squares.compactMap { SVGCheck.double($0, "width") }, weights = squares.compactMap { SVGCheck.double($0, "data-weight") }
        for i in sides.indices { for j in sides.indices where weights[i] > weights[j] * 1.0001 { #expect(sides[i] >= sides[j]) } }
        // The overall diamond spans the pooled CI.
        let diamond = try #require(try SVGCheck.elements(doc, "//*[local-name()='polygon'][@class='diamond'][@data-kind='overall']").first)
        let points = try #require(SVGCheck.string(diamond, "points")).split(separator: " ")
            .map { $0.split(separator: ",").compactMap { Double(String($0)) } }
        #expect(points.count == 4)
        let (lo, hi) = (fit.backTransform(fit.confidenceInterval.lower), fit.backTransform(fit.confidenceInterval.upper))
        #expect(isClose(points[0][0], axis.x(lo), relative: 0, absolute: 0.02) && isClose(points[2][0], axis.x(hi), relative: 0, absolute: 0.02), "diamond ends")
        expectClose(points[1][0], axis.x(fit.backTransform(fit.estimate)), relative: 0, absolute: 0.02, "diamond centre")
        // The prediction interval bar.
        let pi = try SVGCheck.elements(doc, "//*[local-name()='line'][@class='pi']")
        if let interval = fit.predictionInterval, let bar = pi.first {
            expectClose(SVGCheck.double(bar, "x1"), max(axis.x(fit.backTransform(interval.lower)), axis.x0), relative: 0, absolute: 0.02)
            expectClose(SVGCheck.double(bar, "x2"), min(axis.x(fit.backTransform(interval.upper)), axis.x1), relative: 0, absolute: 0.02)
        } else {
            #expect(pi.isEmpty == (fit.predictionInterval == nil))
        }
        // Ticks sit where their values map, inside the axis.
        for tick in try SVGCheck.elements(doc, "//*[local-name()='line'][@class='tick']") {
            let value = try #require(SVGCheck.double(tick, "data-value"))
            let x = try #require(SVGCheck.double(tick, "x1"))
            #expect(isClose(x, axis.x(value), relative: 0, absolute: 0.02) && x >= axis.x0 - 0.01 && x <= axis.x1 + 0.01)
        }
    }

    @Test("forest geometry matches the model on every shipped dataset", arguments: [
        ("her2-bm-intracranial-response.csv", nil as String?), ("her2-bm-hazard-ratios.csv", nil),
        ("bcg-vaccine.csv", nil), ("pritz1997-hyperdynamic-therapy.csv", nil), ("bcg-vaccine.csv", "RR"),
        ("pritz1997-hyperdynamic-therapy.csv", "PFT"), ("bcg-vaccine.csv", "RD"),
    ])
    func geometry(_ file: String, _ measure: String?) throws {
        let table = try Self.table(file)
        let m = measure.flatMap(EffectMeasure.init(code:))
        let plot = try ForestPlot(table: table, measure: m)
        let fit = try MetaAnalysis(EffectSizes(table: table, measure: m))
        try Self.checkGeometry(plot, fit: fit)
        #expect(plot.axis.scale == ([.oddsRatio, .riskRatio, .hazardRatio].contains(fit.effects.measure) ? .log : .linear))
    }

    @Test("subgroup blocks: headers, one diamond per subgroup, weights adding up, the test under the plot")
    func subgroups() throws {
        let table = try Self.intracranialExperimental()
        let plot = try ForestPlot(table: table, by: "drug_class")
        let groups = try SubgroupAnalysis(table: table, by: "drug_class")
        let doc = try SVGCheck.parse(plot.svg())
        let headers = try SVGCheck.elements(doc, "//*[local-name()='text'][@class='subgroup-header']").map { $0.stringValue ?? "" }
        #expect(headers == groups.subgroups.map(\.label))
        let diamonds = try SVGCheck.elements(doc, "//*[local-name()='polygon'][@class='diamond'][@data-kind='subgroup']")
        #expect(diamonds.count == groups.subgroups.count)
        for (d, g) in zip(diamonds, groups.subgroups) {
            #expect(abs((SVGCheck.double(d, "data-estimate") ?? .nan) - g.backTransform(g.estimate)) < 1e-12)
        }
        #expect(abs(plot.studies.compactMap(\.weight).reduce(0, +) - 100) < 1e-9)
        let footer = try SVGCheck.elements(doc, "//*[local-name()='text'][@class='footer']").map { $0.stringValue ?? "" }
        // metafor: Tests/MetaPoolTests/Fixtures/headline/expected.json (Q_between 23.8050, overall τ² 0.5754).
        #expect(footer.contains { $0.hasPrefix("Test for subgroup differences: Q = 23.81, df = 3") })
        #expect(footer.contains { $0.hasPrefix("Heterogeneity: τ² = 0.5754; I² = 82.3%; Q = 70.58, df = 15") })
        try Self.checkGeometry(plot, fit: try MetaAnalysis(EffectSizes(table: table)))
    }

    @Test("rows that share a study label are told apart by the first column that differs")
    func distinctLabels() throws {
        let csv = "study,arm,population,events,total\nHER2CLIMB,tucatinib,active,26,55\nHER2CLIMB,placebo,active,4,20\nNALA,x,stable,5,19\nNALA,x,active,2,13\nSolo,y,active,3,9\n"
        let plot = try ForestPlot(table: try DataTable.read(bytes: Array(csv.utf8), source: "d.csv"))
        #expect(plot.studies.map(\.label) == ["HER2CLIMB (tucatinib)", "HER2CLIMB (placebo)", "NALA (stable)", "NALA (active)", "Solo"])
    }

    @Test("labels with <, &, quotes and non-ASCII are escaped and come back intact")
    func escaping() throws {
        let labels = ["A <b> & \"C\" 'd'", "Müller–Łódź 2020 (β)", "試験 ≥ 5", "plain"]
        var csv = "study,events,total\n"
        for (i, l) in labels.enumerated() { csv += "\"\(l.replacingOccurrences(of: "\"", with: "\"\""))\",\(3 + i),\(10 + 2 * i)\n" }
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "labels.csv")
        let svg = try ForestPlot(table: table).svg()
        #expect(!svg.contains("<b>") && svg.contains("&lt;b&gt; &amp; &quot;C&quot; &#39;d&#39;"))
        let doc = try SVGCheck.parse(svg)
        let texts = try SVGCheck.elements(doc, "//*[local-name()='text']").compactMap(\.stringValue)
        for l in labels { #expect(texts.contains(l), "\(l)") }
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("labels.svg")
        try svg.write(to: url, atomically: true, encoding: .utf8)
        let png = try Renderer.renderSVG(url)
        #expect(png.inkFraction > 0.01)
    }

    @Test("readable from k = 1 to k = 150: parses, renders non-blank, grows with k", arguments: [1, 2, 150])
    func sizes(_ k: Int) throws {
        var csv = "study,events,total\n"
        for i in 0..<k { csv += "Study \(i + 1),\((i * 7) % 20 + 1),\(25 + (i * 13) % 40)\n" }
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "k.csv")
        let method: TauSquaredMethod = k == 1 ? .fixedEffect : .restrictedMaximumLikelihood
        let plot = try ForestPlot(table: table, method: method)
        let fit = try MetaAnalysis(EffectSizes(table: table), method: method)
        try Self.checkGeometry(plot, fit: fit)
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("k\(k).svg")
        let svg = plot.svg()
        try svg.write(to: url, atomically: true, encoding: .utf8)
        let png = try Renderer.renderSVG(url)
        let doc = try SVGCheck.parse(svg)
        let root = try #require(doc.rootElement())
        #expect(png.width == Int((SVGCheck.double(root, "width") ?? 0).rounded()))
        #expect(png.height == Int((SVGCheck.double(root, "height") ?? 0).rounded()))
        #expect(png.height >= 150 + 20 * k, "at least one 20 px row per study")
        #expect(png.inkFraction > 0.01 && png.inkFraction < 0.5, "ink \(png.inkFraction)")
        // The overall diamond's centre is drawn (ink where the SVG puts it).
        let diamond = try #require(try SVGCheck.elements(doc, "//*[local-name()='polygon'][@class='diamond']").last)
        let points = (SVGCheck.string(diamond, "points") ?? "").split(separator: " ").map { $0.split(separator: ",").compactMap { Double(String($0)) } }
        let (cx, cy) = (Int(points[1][0]), Int((points[1][1] + points[3][1]) / 2))
        #expect(png.hasInk(x: (cx - 2)...(cx + 2), y: (cy - 2)...(cy + 2)))
    }

    @Test("funnel: points at (effect, SE), the funnel centred on the estimate, rendered")
    func funnel() throws {
        let table = try Self.table("bcg-vaccine.csv")
        let fit = try MetaAnalysis(EffectSizes(table: table))
        let svg = try FunnelPlot(fit).svg()
        let doc = try SVGCheck.parse(svg)
        let xAxis = try #require(try SVGCheck.elements(doc, "//*[local-name()='g'][@class='x-axis']").first)
        let yAxis = try #require(try SVGCheck.elements(doc, "//*[local-name()='g'][@class='y-axis']").first)
        func value(_ e: XMLElement, _ name: String) throws -> Double { try #require(SVGCheck.double(e, name), "\(name) missing") }
        let (lo, hi, x0, x1) = (try value(xAxis, "data-lower"), try value(xAxis, "data-upper"), try value(xAxis, "data-x0"), try value(xAxis, "data-x1"))
        let (seMax, y0, y1) = (try value(yAxis, "data-upper"), try value(yAxis, "data-y0"), try value(yAxis, "data-y1"))
        let circles = try SVGCheck.elements(doc, "//*[local-name()='circle']")
        #expect(circles.count == fit.count)
        for (c, (y, v)) in zip(circles, zip(fit.effects.yi, fit.effects.vi)) {
            expectClose(try value(c, "cx"), x0 + (y - lo) / (hi - lo) * (x1 - x0), relative: 0, absolute: 0.02)
            expectClose(try value(c, "cy"), y0 + v.squareRoot() / seMax * (y1 - y0), relative: 0, absolute: 0.02)
        }
        let funnel = try #require(try SVGCheck.elements(doc, "//*[local-name()='polygon'][@class='funnel']").first)
        let apex = (SVGCheck.string(funnel, "points") ?? "").split(separator: " ")[0].split(separator: ",").compactMap { Double(String($0)) }
        #expect(isClose(apex[0], x0 + (fit.estimate - lo) / (hi - lo) * (x1 - x0), relative: 0, absolute: 0.02) && isClose(apex[1], y0, relative: 0, absolute: 0.02))
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("funnel.svg")
        try svg.write(to: url, atomically: true, encoding: .utf8)
        #expect(try Renderer.renderSVG(url).inkFraction > 0.005)
    }

    @Test("report: self-contained (no scripts, links or external resources) and rendered by Chromium")
    func report() throws {
        let table = try Self.intracranialExperimental()
        let html = try Report(table: table, title: "IC-ORR <by> drug class", by: "drug_class").html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for forbidden in ["<script", "<link", "src=", "href=", "@import", "url(http"] { #expect(!html.contains(forbidden), "\(forbidden)") }
        #expect(html.contains("IC-ORR &lt;by&gt; drug class"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2, "forest and funnel inline")
        #expect(html.contains("Test for subgroup differences: Q = 23.81"))
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("report.html")
        try html.write(to: url, atomically: true, encoding: .utf8)
        let png = try Renderer.renderHTML(url)
        #expect(png.width == 1280 && png.inkFraction > 0.01, "ink \(png.inkFraction)")
    }
}

@Suite("metapool forest, funnel and report on every shipped dataset")
struct PlotCommandTests {
    static func datasets() -> [String] {
        let dir = PlotTests.repository.appendingPathComponent("Datasets")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".csv") }.sorted()
    }

    @Test("there are shipped datasets")
    func present() { #expect(Self.datasets().count >= 4) }

    @Test("forest, funnel and report write a parseable SVG / a page", arguments: datasets())
    func commands(_ file: String) throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = try PlotTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = PlotTests.repository.appendingPathComponent("Datasets/\(file)").path
        for (command, output) in [("forest", "f.svg"), ("funnel", "u.svg"), ("report", "r.html")] {
            let target = dir.appendingPathComponent(output)
            // Every row of the file, whatever endpoints it mixes (the guard is tested in MixedOutcomeTests).
            let result = try MetapoolBinary.run(binary, [command, input, "--allow-mixed-endpoints", "-o", target.path], in: dir, stdinFile: nil)
            #expect(result.status == 0, "\(command) \(file): \(result.stderr)")
            let text = try String(contentsOf: target, encoding: .utf8)
            if output.hasSuffix(".svg") {
                #expect(throws: Never.self) { _ = try SVGCheck.parse(text) }
            } else {
                #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("<svg "))
            }
        }
        // The forest plot of the JSON output and of the SVG agree.
        let json = try MetapoolBinary.run(binary, ["pool", input, "--allow-mixed-endpoints", "--format", "json"], in: dir, stdinFile: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let forest = try #require(object["forest"] as? [String: Any])
        let rows = try #require(forest["rows"] as? [[String: Any]])
        let svg = try String(contentsOf: dir.appendingPathComponent("f.svg"), encoding: .utf8)
        let squares = try SVGCheck.elements(try SVGCheck.parse(svg), "//*[local-name()='rect'][@class='square']")
        #expect(rows.filter { $0["type"] as? String == "study" }.count == squares.count)
        for (row, square) in zip(rows, squares) {
            // Foundation's JSON parser on Linux can be one ulp off; the SVG attribute is read exactly.
            let (a, b) = ((row["estimate"] as? Double) ?? .nan, SVGCheck.double(square, "data-estimate") ?? .nan)
            #expect(abs(a - b) <= 1e-14 * abs(b), "\(a) vs \(b)")
        }
    }

    @Test("subgroups and bad input: --by draws blocks; bad data fails like pool, writing nothing")
    func subgroupsAndErrors() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = try PlotTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = PlotTests.repository.appendingPathComponent("Datasets/her2-bm-intracranial-response.csv").path
        let ok = try MetapoolBinary.run(binary, ["forest", input, "--by", "drug_class", "--common-tau2",
                                                     "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR", "--where", "role=experimental", "-o", "-"], in: dir, stdinFile: nil)
        #expect(ok.status == 0 && ok.stdout.contains("Test for subgroup differences (common τ²): QM = 10.51, df = 3"))
        try "study,events,total\nA,12,10\nB,3,9\n".write(to: dir.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        for command in ["forest", "funnel", "report"] {
            let out = dir.appendingPathComponent("\(command).out")
            let bad = try MetapoolBinary.run(binary, [command, "bad.csv", "-o", out.path], in: dir, stdinFile: nil)
            #expect(bad.status == 65, "\(command): \(bad.stderr)")
            #expect(bad.stderr.contains("bad.csv, row 1") && bad.stderr.contains("column \"events\""), "\(command): \(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        let usage = try MetapoolBinary.run(binary, ["forest", input, "--common-tau2", "-o", "x.svg"], in: dir, stdinFile: nil)
        #expect(usage.status == 64)
    }
}
