// The data of a forest plot: every row, diamond, interval and the axis, on the natural scale.
// Drawing is separate (ForestPlot+SVG.swift), so a Swift or Python user can draw it their way.

import RealModule

/// What a forest plot shows, computed from a fitted analysis: one row per study (label, input
/// counts, estimate and CI on the natural scale, weight in percent), subgroup headers and
/// diamonds, the overall diamond, the prediction interval, the null line and the axis (log scale
/// for ratios), in the layout of RevMan and R's meta (`forest.meta`).
public struct ForestPlot: Sendable {
    /// How values map to positions on the axis.
    public enum Scale: String, Sendable {
        /// `linear` for differences, proportions and generic effects; `log` for ratios.
        case linear, log
    }

    /// The horizontal axis, on the natural scale.
    public struct Axis: Sendable {
        /// Linear, or logarithmic for ratios.
        public let scale: Scale
        /// The left end of the axis (natural scale).
        public let lower: Double
        /// The right end of the axis (natural scale).
        public let upper: Double
        /// Tick values on the natural scale, left to right.
        public let ticks: [Double]
        /// The value of no effect (1 for ratios, 0 for differences and generic effects), or `nil`.
        public let nullValue: Double?
        /// The axis title ("Odds Ratio", "Proportion", …).
        public let label: String

        /// The position of `value` in [0, 1] along the axis (outside for values beyond it).
        public func fraction(_ value: Double) -> Double {
            switch scale {
            case .linear: (value - lower) / (upper - lower)
            case .log: (Double.log(value) - Double.log(lower)) / (Double.log(upper) - Double.log(lower))
            }
        }
    }

    /// One study.
    public struct Study: Sendable {
        /// The study label, with a distinguishing column value where labels repeat.
        public let label: String
        /// The input columns that define the effect, as written (`events`, `total`, …).
        public var inputs: [(String, String)] { inputCells?.cells(ofRow: inputRow) ?? [] }
        /// The input cell of column `name` as ``inputs`` holds it (trimmed), or `nil` where `inputs` has none.
        public func input(_ name: String) -> String? { inputCells?.cell(ofRow: inputRow, column: name) }
        /// The table the input cells are read from, shared by every study (no array per study).
        let inputCells: InputCells?
        /// The study's row in ``inputCells``.
        let inputRow: Int
        /// The study's effect on the natural scale.
        public let estimate: Double
        /// The lower bound of its Wald interval yᵢ − z·√vᵢ, on the natural scale.
        public let ciLower: Double
        /// The upper bound of its Wald interval yᵢ + z·√vᵢ, on the natural scale.
        public let ciUpper: Double
        /// Percentage weight in the overall model; `nil` where the model has no study weights (GLMM).
        public let weight: Double?
        /// The study's Wald interval yᵢ ± z·√vᵢ on the analysis scale.
        public let analysisInterval: Interval
        /// The effect and variance on the analysis scale.
        public let yi: Double
        /// The sampling variance vᵢ (analysis scale).
        public let vi: Double
        /// The interval the outputs show for the study (ForestPlot+StudyIntervals.swift): by
        /// default Clopper–Pearson for proportions, the published CI of a hazard ratio, else the
        /// Wald interval above; `nil` shows the Wald interval.
        public internal(set) var interval: StudyInterval? = nil
    }

    /// The input columns of a plot's studies, read from the table's column arrays when asked for
    /// (no array of cells per study).
    final class InputCells: Sendable {
        /// The columns shown, each with its cells (a table read from a file shares its own
        /// arrays: nothing is copied, and the table's other columns are not kept).
        let columns: [(name: String, cells: [String?])]
        /// The number of rows.
        let count: Int

        init(columns: [(name: String, index: Int)], table: DataTable) {
            self.columns = columns.map { ($0.name, table.cells(inColumn: $0.index)) }
            count = table.rowCount
        }

        /// The first cell of `row` named `name` among ``cells(ofRow:)``, without building them all.
        func cell(ofRow r: Int, column name: String) -> String? {
            guard r >= 0, r < count else { return nil }
            for (n, cells) in columns where n == name {
                if let text = cells[r] { return text.trimmingSpaces() }
            }
            return nil
        }

        /// The named, trimmed non-empty cells of `row`, in column order.
        func cells(ofRow r: Int) -> [(String, String)] {
            guard r >= 0, r < count else { return [] }
            var cells: [(String, String)] = []
            cells.reserveCapacity(columns.count)
            for (name, column) in columns {
                if let text = column[r] { cells.append((name, text.trimmingSpaces())) }
            }
            return cells
        }
    }

    /// A pooled estimate drawn as a diamond (a subgroup or the overall model).
    public struct Diamond: Sendable {
        /// The subgroup label, or the model's name for the overall diamond.
        public let label: String
        /// The number of studies pooled.
        public let k: Int
        /// The pooled estimate on the natural scale.
        public let estimate: Double
        /// The lower confidence bound on the natural scale.
        public let ciLower: Double
        /// The upper confidence bound on the natural scale.
        public let ciUpper: Double
        /// The summed weight of its studies in the overall model, in percent; `nil` without weights.
        public let weight: Double?
        /// τ̂² (analysis scale), or `nil` for a common-effect model.
        public let tauSquared: Double?
        /// I² in percent, or `nil` for a subgroup under a common τ².
        public let iSquared: Double?
        /// Cochran's Q (metafor's QE), or `nil` for a subgroup under a common τ².
        public let q: Double?
        /// The degrees of freedom of Q.
        public let qDegreesOfFreedom: Int?
        /// The p-value of Q (metafor's QEp).
        public let qPValue: Double?
        /// Whether it pools the cohorts of one cluster of a three-level fit (at σ̂²₂), not a subgroup.
        public var isCluster = false
    }

    /// A row, top to bottom.
    public enum Row: Sendable {
        /// The header row of a subgroup, with its label.
        case subgroupHeader(String)
        /// A study's row.
        case study(Study)
        /// A subgroup's pooled diamond, after its studies.
        case subgroupDiamond(Diamond)
    }

    /// The test for subgroup differences shown under the plot.
    public struct SubgroupTest: Sendable {
        /// The test's name: Q (separate τ², or any model), QM or F (common τ²).
        public let name: String
        /// Q_between, QM or the F statistic.
        public let statistic: Double
        /// Its degrees of freedom, G − 1 (the numerator df of F).
        public let degreesOfFreedom: Int
        /// The denominator df of an F test, or `nil` for χ².
        public let denominatorDegreesOfFreedom: Int?
        /// Its p-value.
        public let pValue: Double
    }

    /// The effect measure of the studies.
    public let measure: EffectMeasure
    /// The fitted model's name, the label of the overall diamond ("Random-effects model (REML)").
    public let modelName: String
    /// The confidence level of the intervals, in (0, 1).
    public let level: Double
    /// Column headers for the input counts (`Events`, `Total`; `Treatment`, `Control`), empty
    /// for hazard ratios and generic effects.
    public let countHeaders: [String]
    /// The rows, top to bottom: the studies and, with subgroups, their headers and diamonds.
    public internal(set) var rows: Rows
    /// How the study rows' intervals were chosen (``withStudyIntervals(_:)``).
    public internal(set) var studyIntervalMethod: StudyIntervalMethod = .analysisScale
    /// The name of the pooled interval in the legend: "Wald", "t", "Hartung-Knapp", …
    public internal(set) var pooledIntervalName = "Wald"
    /// The input named in an error about the axis.
    var axisSource: String?
    /// The overall model's diamond, labelled with the model's name.
    public internal(set) var overall: Diamond
    /// The prediction interval on the natural scale (random-effects models).
    public let predictionInterval: Interval?
    /// How the prediction interval was formed ("t on 3 df", "z"; ``Prediction/label``), shown beside it.
    public internal(set) var predictionIntervalMethod: String?
    /// The horizontal axis.
    public internal(set) var axis: Axis
    /// The test for subgroup differences, or `nil` without subgroups.
    public let subgroupTest: SubgroupTest?
    /// Whether a subgroup τ² is common to all subgroups.
    public let commonTauSquared: Bool
    /// The first value whose natural-scale value a Double cannot hold: the exponential of an
    /// analysis-scale value above 709.78 (infinite) or below about −745 (0, which a log axis cannot
    /// place). What it is and its analysis-scale value; `nil` when every value can be drawn. Such
    /// a plot cannot be drawn (``requireDrawable()``).
    public let overflow: (what: String, analysisValue: Double)?
    /// Lines under the heterogeneity line: the population-averaged rate of a GLMM for proportions
    /// (one per subgroup and the overall fit with `--by`); empty for other models.
    public internal(set) var footnotes: [String] = []
    /// For a three-level fit: the cluster column and σ̂²₁, σ̂²₂ (the blocks are clusters, not subgroups).
    public internal(set) var threeLevel: (column: String, clusterVariance: Double, cohortVariance: Double)? = nil
    /// For a Bayesian fit (ForestPlot+Bayes.swift): each study's shrinkage estimate beside its
    /// observed effect, the priors and τ's posterior; the overall diamond is μ's posterior.
    public internal(set) var bayesian: Bayesian? = nil

    /// Throws when a value to draw overflows on the natural scale (``overflow``): its position on
    /// the axis and the axis itself would be infinite. Values that are large but finite are drawn,
    /// labelled in scientific notation.
    /// - Throws: ``MetaPoolError`` `.insufficientData`, naming the value.
    public func requireDrawable() throws(MetaPoolError) {
        guard let (what, y) = overflow else { return }
        let analysis = NumberFormat.decimal(y, digits: 4)
        if y < 0 {
            throw MetaPoolError(.insufficientData, "the \(what) is \(analysis) on the analysis scale, 0 in double precision on the \(measure.naturalScaleName) scale (below about 1e-308), so the forest plot cannot place it on its log axis; check the effect values (on the log scale, values below -708 underflow)")
        }
        let value = NumberFormat.naturalScale(.infinity, analysisValue: y, digits: 2)
        throw MetaPoolError(.insufficientData, "the \(what) is \(analysis) on the analysis scale, \(value) on the \(measure.naturalScaleName) scale, beyond the largest double (about 1.8e+308), so the forest plot cannot place it; check the effect values (on the log scale, values above 709.78 overflow)")
    }

    /// The studies in row order.
    public var studies: [Study] {
        rows.compactMap { if case .study(let s) = $0 { return s } else { return nil } }
    }

    /// Builds the plot for a table: the overall model, and with `by` one block per subgroup.
    /// - Throws: whatever reading the effect sizes or fitting the models throws.
    public init(table: DataTable, measure: EffectMeasure? = nil, method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95, by: String? = nil,
                commonTauSquared: Bool = false) throws(MetaPoolError) {
        if let by {
            let groups = try SubgroupAnalysis(table: table, by: by, measure: measure, method: method, ciMethod: ciMethod,
                                              level: level, commonTauSquared: commonTauSquared)
            try self.init(groups, table: table)
        } else {
            try self.init(MetaAnalysis(EffectSizes(table: table, measure: measure), method: method, ciMethod: ciMethod, level: level),
                          table: table)
        }
    }

    /// The plot of a fitted model: a row per study of the fit, the pooled diamond, the prediction
    /// interval where the model has one. `table`, when given, supplies the input columns shown
    /// beside each study (events, totals) and the columns that tell arms of one trial apart.
    public init(_ fit: any FittedModel, table: DataTable? = nil) throws(MetaPoolError) {
        if let threeLevel = fit as? any ThreeLevelFitted {
            try self.init(threeLevel: threeLevel, table: table)
            return
        }
        try self.init(fit: fit, table: table, blocks: nil, test: nil, commonTauSquared: false)
        footnotes = fit.populationAveragedText(unicode: true).map { [$0] } ?? []
    }

    /// The plot of a three-level fit: the cohorts grouped under their cluster (trial), each
    /// cluster of several cohorts with a heading and a diamond for its cohorts pooled at the
    /// fitted cohort variance (``ThreeLevelAnalysis/clusterEstimates``), a cluster of one cohort as a plain row.
    public init(_ analysis: ThreeLevelAnalysis, table: DataTable? = nil) throws(MetaPoolError) {
        try self.init(threeLevel: analysis, table: table)
    }

    init(threeLevel analysis: any ThreeLevelFitted, table: DataTable?) throws(MetaPoolError) {
        try self.init(fit: analysis, table: table, blocks: Self.clusterBlocks(analysis), test: nil, commonTauSquared: false)
        threeLevel = (analysis.clusters.column, analysis.clusterVariance, analysis.cohortVariance)
    }

    /// A three-level fit's clusters as blocks: a cluster of several cohorts with a heading and the
    /// diamond of its cohorts pooled at σ̂²₂ (Wald interval), a cluster of one cohort as a plain row.
    static func clusterBlocks(_ analysis: any ThreeLevelFitted) throws(MetaPoolError) -> [Block] {
        let z = EstimateInference.criticalValue(level: analysis.pooled.level, degreesOfFreedom: nil)
        let back = analysis.backTransform
        var blocks: [Block] = []
        for c in analysis.clusterEstimates {
            let effects = try analysis.studies.effects.subset(c.studies)
            guard c.studies.count > 1 else {
                blocks.append(Block(label: c.label, effects: effects, estimate: .none, heading: false))
                continue
            }
            let half = z * c.standardError
            blocks.append(Block(label: c.label, effects: effects,
                                estimate: .coefficient(estimate: c.estimate, interval: Interval(c.estimate - half, c.estimate + half),
                                                       tauSquared: analysis.cohortVariance, backTransform: back),
                                isCluster: true))
        }
        return blocks
    }

    /// The plot of a subgroup analysis: one block per subgroup (its studies found by their input
    /// rows, its diamond from its own fit or the common-τ² model) and the test for subgroup differences.
    public init(_ groups: SubgroupAnalysis, table: DataTable? = nil) throws(MetaPoolError) {
        let blocks = groups.subgroups.map { g -> Block in
            let diamond: Block.Estimate
            if let fit = g.fit {
                diamond = .fit(fit)
            } else {
                diamond = .coefficient(estimate: g.estimate, interval: g.confidenceInterval, tauSquared: g.tauSquared,
                                       backTransform: g.backTransform)
            }
            return Block(label: g.label, effects: g.effects, estimate: diamond)
        }
        let test = SubgroupTest(name: groups.testName, statistic: groups.qBetween, degreesOfFreedom: groups.qBetweenDegreesOfFreedom,
                                denominatorDegreesOfFreedom: groups.qBetweenDenominatorDegreesOfFreedom, pValue: groups.qBetweenPValue)
        try self.init(fit: groups.overall, table: table, blocks: blocks, test: test, commonTauSquared: groups.commonModel != nil)
    }

    /// The plot of subgroups fitted with any model (``SubgroupFits``): one block per subgroup and
    /// the Wald test between them.
    public init(_ groups: SubgroupFits, table: DataTable? = nil) throws(MetaPoolError) {
        // A subgroup fitted by a three-level model shows its cohorts under their clusters.
        let blocks = try groups.groups.map { (g) throws(MetaPoolError) -> Block in
            var block = Block(label: g.label, effects: g.fit.studies.effects, estimate: .fit(g.fit))
            if let three = g.fit as? any ThreeLevelFitted { block.clusters = try Self.clusterBlocks(three) }
            return block
        }
        let test = SubgroupTest(name: "Q", statistic: groups.qBetween, degreesOfFreedom: groups.qBetweenDegreesOfFreedom,
                                denominatorDegreesOfFreedom: nil, pValue: groups.qBetweenPValue)
        try self.init(fit: groups.overall, table: table, blocks: blocks, test: test, commonTauSquared: false)
        footnotes = groups.populationAveragedLines(unicode: true)
        if let three = groups.overall as? any ThreeLevelFitted {
            threeLevel = (three.clusters.column, three.clusterVariance, three.cohortVariance)
        }
    }

    /// A subgroup block: its studies (matched to the overall fit's by input row) and its estimate.
    struct Block {
        enum Estimate {
            case fit(any FittedModel)
            case coefficient(estimate: Double, interval: Interval, tauSquared: Double?, backTransform: (Double) -> Double)
            /// No diamond (a cluster of one cohort).
            case none
        }
        let label: String
        let effects: EffectSizes
        let estimate: Estimate
        /// Whether the block starts with a heading row.
        var heading = true
        /// For a subgroup fitted by a three-level model: its clusters' blocks, drawn inside it
        /// (their studies together are `effects`); `nil` for a flat block.
        var clusters: [Block]? = nil
        /// Whether the block is a cluster of a three-level fit (its diamond pools its cohorts).
        var isCluster = false
    }

    init(fit: any FittedModel, table: DataTable?, blocks: [Block]?, test: SubgroupTest?, commonTauSquared: Bool) throws(MetaPoolError) {
        let effects = fit.studies.effects
        let m = fit.measure
        self.measure = m
        self.modelName = fit.modelName
        self.level = fit.pooled.level
        self.commonTauSquared = commonTauSquared && blocks != nil
        let studyIntervals = fit.studies.confidenceIntervals(level: level)
        var overflow: (what: String, analysisValue: Double)?
        /// Records the first value that overflows on the natural scale (or underflows to 0 on a log axis).
        let logAxis = m.backTransform == .exponential
        func checked(_ natural: Double, _ analysisValue: Double, _ what: @autoclosure () -> String) -> Double {
            if overflow == nil, natural == .infinity || (logAxis && natural == 0), analysisValue.isFinite { overflow = (what(), analysisValue) }
            return natural
        }
        func natural(_ x: Double, total: Double?) -> Double {
            m.backTransform.apply(x, harmonicMeanTotal: total ?? effects.harmonicMeanTotal)
        }

        var inputColumns: [String]
        switch m.family {
        case .proportion: inputColumns = ["events", "total"]; countHeaders = ["Events", "Total"]
        case .twoGroup: inputColumns = ["treat_events", "treat_total", "control_events", "control_total"]; countHeaders = ["Treatment", "Control"]
        case .hazardRatio: inputColumns = ["hr", "hr_lower", "hr_upper", "hr_level", "log_hr", "se", "o_minus_e", "v", "p_value"]; countHeaders = []
        case .generic: inputColumns = ["yi", "vi", "se"]; countHeaders = []
        }
        // Each input column's index, looked up once (not per study).
        let inputIndexes: [(name: String, index: Int)] = table.map { table in
            inputColumns.compactMap { name in table.columnIndex(name).map { (name, $0) } }
        } ?? []
        inputColumns = inputIndexes.map(\.name)
        // The table row of each study, found by its input row number (studies left out of the
        // fit, such as double-zero studies under MH, have no row in the plot); `nil` when study i is row i.
        let studyRows: [Int?]?
        if let table, effects.count == table.rowCount,
           effects.locations.indices.allSatisfy({ i in effects.locations.rowNumber(i).map { $0 == table.rowNumber(i) } ?? false }) {
            // Every row a study, in order (no row left out): no table of row numbers to build.
            studyRows = nil
        } else {
            var tableRowOf: [Int: Int] = [:]
            if let table {
                tableRowOf.reserveCapacity(table.rowCount)
                for r in 0..<table.rowCount { if let number = table.rowNumber(r) { tableRowOf[number] = r } }
            }
            studyRows = effects.locations.indices.map { i in effects.locations.rowNumber(i).flatMap { tableRowOf[$0] } }
        }
        var labels = effects.labels
        if let table, studyRows?.allSatisfy({ $0 != nil }) ?? true {
            // The label column looked up by name, as in a table of these rows built anew.
            labels = Self.distinctLabels(effects.labels, table: table, rows: studyRows.map { $0.map { $0! } },
                                         labelColumn: DataTable(columns: table.columns, rows: []).labelColumnIndex, exclude: Set(inputColumns))
        }
        let weights = fit.studies.weights
        let inputCells = table.map { InputCells(columns: inputIndexes, table: $0) }
        // The study intervals shown by default: Clopper–Pearson for proportions, published HR CIs.
        let defaultIntervals = StudyIntervalMethod.defaultMethod(for: m)
        studyIntervalMethod = defaultIntervals
        // The studies as columns of values (ForestPlot+Rows.swift): y, v and the weights are the fit's own arrays.
        let k = effects.count
        var estimates: [Double] = [], ciLowers: [Double] = [], ciUppers: [Double] = []
        estimates.reserveCapacity(k)
        ciLowers.reserveCapacity(k)
        ciUppers.reserveCapacity(k)
        for i in 0..<k {
            let y = effects.yi[i], ci = studyIntervals[i]
            let total = effects.totals?[i]
            estimates.append(checked(natural(y, total: total), y, "estimate of study \"\(labels[i])\""))
            ciLowers.append(checked(natural(ci.lower, total: total), ci.lower, "lower CI bound of study \"\(labels[i])\""))
            ciUppers.append(checked(natural(ci.upper, total: total), ci.upper, "upper CI bound of study \"\(labels[i])\""))
        }
        let inputRows: [Int]? = studyRows.map { $0.map { $0 ?? -1 } }
        let studies = StudyColumns(labels: labels, inputCells: inputCells, inputRows: inputRows, estimates: estimates, ciLowers: ciLowers,
                                   ciUppers: ciUppers, weights: weights, analysisIntervals: studyIntervals, yi: effects.yi, vi: effects.vi)
            .withIntervals { [level = fit.pooled.level] in $0.studyInterval(defaultIntervals, measure: m, level: level) }
        var layout: [Int] = []
        var others: [Row] = []
        if let a = fit as? MetaAnalysis {
            pooledIntervalName = switch a.ciMethod {
            case .wald: "Wald"
            case .t: "t"
            case .hartungKnapp: "Hartung-Knapp"
            case .hartungKnappAdHoc: "Hartung-Knapp (ad hoc)"
            }
        }
        axisSource = table?.source ?? effects.locations.firstFile

        func diamond(_ label: String, _ a: any FittedModel, weight: Double?) -> Diamond {
            let p = a.pooled, het = a.heterogeneity, ci = p.confidenceInterval
            return Diamond(label: label, k: a.studies.effects.count,
                           estimate: checked(a.backTransform(p.estimate), p.estimate, "pooled estimate of \"\(label)\""),
                           ciLower: checked(a.backTransform(ci.lower), ci.lower, "lower CI bound of \"\(label)\""),
                           ciUpper: checked(a.backTransform(ci.upper), ci.upper, "upper CI bound of \"\(label)\""),
                           weight: weight, tauSquared: het.tauSquared, iSquared: het.iSquared, q: het.q,
                           qDegreesOfFreedom: het.degreesOfFreedom, qPValue: het.pValue)
        }
        overall = diamond(fit.modelName, fit, weight: weights == nil ? nil : 100)
        predictionIntervalMethod = fit.newStudyPrediction?.label
        predictionInterval = fit.predictionInterval.map { pi in
            Interval(checked(fit.backTransform(pi.lower), pi.lower, "lower prediction bound"),
                     checked(fit.backTransform(pi.upper), pi.upper, "upper prediction bound"))
        }

        if let blocks {
            // Each study of the overall fit by its input row number.
            var indexOfRow: [Int: Int] = [:]
            for i in effects.locations.indices { if let r = effects.locations.rowNumber(i) { indexOfRow[r] = i } }
            /// A block's rows: its heading, its studies (or, for a three-level subgroup, its clusters'
            /// blocks) and its diamond; returns the studies it placed.
            func place(_ block: Block) throws(MetaPoolError) -> [Int] {
                if block.heading {
                    others.append(.subgroupHeader(block.label))
                    layout.append(-others.count)
                }
                var members: [Int] = []
                if let nested = block.clusters {
                    for inner in nested { members += try place(inner) }
                } else {
                    members = block.effects.locations.indices.compactMap { block.effects.locations.rowNumber($0).flatMap { indexOfRow[$0] } }
                    layout += members
                }
                guard members.count == block.effects.count else {
                    throw MetaPoolError(.invalidArgument, "the subgroup \"\(block.label)\" has studies without input rows, so they cannot be placed in the plot")
                }
                let weight: Double? = weights.map { w in members.reduce(0.0) { $0 + w[$1] } }
                switch block.estimate {
                case .fit(let a):
                    others.append(.subgroupDiamond(diamond(block.label, a, weight: weight)))
                case .coefficient(let estimate, let interval, let tau2, let back):
                    others.append(.subgroupDiamond(Diamond(
                        label: block.label, k: block.effects.count,
                        estimate: checked(back(estimate), estimate, "pooled estimate of \"\(block.label)\""),
                        ciLower: checked(back(interval.lower), interval.lower, "lower CI bound of \"\(block.label)\""),
                        ciUpper: checked(back(interval.upper), interval.upper, "upper CI bound of \"\(block.label)\""),
                        weight: weight, tauSquared: tau2, iSquared: nil, q: nil, qDegreesOfFreedom: nil, qPValue: nil,
                        isCluster: block.isCluster)))
                case .none:
                    return members
                }
                layout.append(-others.count)
                return members
            }
            for block in blocks { _ = try place(block) }
            subgroupTest = test
        } else {
            subgroupTest = nil
        }
        rows = Rows(studies: studies, layout: blocks == nil ? nil : layout, others: others)
        self.overflow = overflow

        // The axis must show every estimate, every diamond and the prediction interval; study
        // CIs are included unless they would stretch the axis more than its own width on either
        // side (they are then clipped, with an arrow, as RevMan does).
        // (ForestPlot+StudyIntervals.swift: the shown study intervals stretch it.)
        // Every study of the fit, with subgroups those in no subgroup too.
        axis = try Self.axis(studies: studies, indices: 0..<k, rows: rows, overall: overall,
                             predictionInterval: predictionInterval, measure: m, source: axisSource)
    }

    /// Study labels that tell rows apart: where several rows share a label (arms or cohorts of
    /// one trial), each gets, in parentheses, its value in the first other text column whose
    /// values differ within the group ("HER2CLIMB (tucatinib arm)", "HER2CLIMB (placebo arm)").
    /// Study `i` is row `rows[i]` of `table` (row `i` when `rows` is `nil`); `labelColumn` is not a candidate.
    static func distinctLabels(_ labels: [String], table: DataTable, rows tableRows: [Int]?, labelColumn: Int?,
                               exclude: Set<String>) -> [String] {
        // Repeated labels first (one dictionary of first rows, no array per label): most
        // tables have none, and 10⁶ one-element arrays were a twentieth of `pool`'s time.
        var groups: [String: [Int]] = [:]
        if let ascii = Self.repeatedASCIILabels(labels) {
            groups = ascii
        } else {
            var firstRow: [String: Int] = [:]
            firstRow.reserveCapacity(labels.count)
            for (i, l) in labels.enumerated() {
                if let first = firstRow.updateValue(i, forKey: l) {
                    firstRow[l] = first
                    groups[l, default: [first]].append(i)
                }
            }
        }
        guard !groups.isEmpty else { return labels }
        var result = labels
        let candidates = table.columns.indices.filter { c in c != labelColumn && !exclude.contains(table.columns[c]) }
        for (label, rows) in groups {
            for c in candidates {
                let values = rows.map { r -> String in
                    let row = tableRows.map { r < $0.count ? $0[r] : -1 } ?? r
                    guard row >= 0, row < table.rowCount else { return "" }
                    return table.cell(row: row, column: c)?.trimmingSpaces() ?? ""
                }
                if Set(values).count > 1 && !values.contains(where: \.isEmpty) {
                    for (r, v) in zip(rows, values) { result[r] = "\(label) (\(v))" }
                    break
                }
            }
        }
        return result
    }

    /// The rows of each repeated label, as a dictionary of first rows finds them, when every
    /// label is ASCII (whose strings are equal exactly when their bytes are; other text is
    /// compared by canonical equivalence, so the caller keeps the dictionary for it): an
    /// open-addressing table of row numbers by an FNV-1a hash of the bytes (Fowler, Noll & Vo),
    /// a fifth of the time of hashing 10⁶ Strings with the standard library's Hasher.
    static func repeatedASCIILabels(_ labels: [String]) -> [String: [Int]]? {
        var capacity = 16
        while capacity < 2 * labels.count { capacity *= 2 }
        let mask = capacity - 1
        var slots = [Int](repeating: -1, count: capacity)
        var groups: [String: [Int]] = [:]
        for (i, label) in labels.enumerated() {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var ascii = true
            let hashed: Void? = label.utf8.withContiguousStorageIfAvailable { bytes in
                for b in bytes {
                    if b >= 0x80 { ascii = false }
                    hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3
                }
            }
            guard hashed != nil, ascii else { return nil }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let j = slots[slot]
                if j < 0 { slots[slot] = i; break }
                if labels[j] == label { groups[label, default: [j]].append(i); break }
                slot = (slot + 1) & mask
            }
        }
        return groups
    }

    static func axisLabel(_ m: EffectMeasure) -> String {
        switch m {
        case .rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion: "Proportion"
        case .oddsRatio: "Odds Ratio"
        case .riskRatio: "Risk Ratio"
        case .riskDifference: "Risk Difference"
        case .hazardRatio: "Hazard Ratio"
        case .generic: "Effect"
        }
    }

    /// Chooses limits and ticks: 1–2–5 steps on a linear axis, 1–2–5 per decade on a log axis.
    /// - Throws: ``MetaPoolError`` `.insufficientData` when the limits of a linear axis overflow a
    ///   Double (estimates near ±1e308, which a fixed-effect fit with variances near 1e308 accepts).
    /// `must` and `wanted` are walked once each, in order (no array of them is made).
    static func axis(must: some Sequence<Double>, wanted: some Sequence<Double>, scale: Scale, nullValue: Double?, proportion: Bool,
                     label: String, source: String? = nil) throws(MetaPoolError) -> Axis {
        let t: (Double) -> Double = scale == .log ? { Double.log($0) } : { $0 }
        let inverse: (Double) -> Double = scale == .log ? { Double.exp($0) } : { $0 }
        let usable = { (v: Double) -> Bool in v.isFinite && (scale == .linear || v > 0) }
        // The least and greatest usable value, as min() and max() of them in order would give.
        var least: Double?, greatest: Double?
        for v in must where usable(v) {
            let x = t(v)
            if least.map({ x < $0 }) ?? true { least = x }
            if greatest.map({ $0 < x }) ?? true { greatest = x }
        }
        var lo = least ?? 0, hi = greatest ?? 1
        if hi - lo < 1e-9 {
            let pad = scale == .log ? Double.log(2) : max(0.1, abs(lo) * 0.2)
            lo -= pad
            hi += pad
        }
        let width = hi - lo
        for v in wanted where usable(v) {
            let x = t(v)
            if x < lo { lo = max(x, lo - width) }
            if x > hi { hi = min(x, hi + width) }
        }
        if proportion { lo = max(lo, 0); hi = min(hi, 1) }
        var ticks: [Double]
        if scale == .linear {
            let raw = (hi - lo) / 5
            let magnitude = Double.pow(10, Double.log10(raw).rounded(.down))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
            lo = (lo / step + 1e-9).rounded(.down) * step
            hi = (hi / step - 1e-9).rounded(.up) * step
            if proportion { lo = max(lo, 0); hi = min(hi, 1) }
            // Estimates near ±1e308: the width, the step or the limits rounded out to a step overflow,
            // and Int(_:) of the infinite or NaN tick count trapped.
            let span = ((hi - lo) / step).rounded()
            guard lo.isFinite, hi.isFinite, span.isFinite, span <= 1000 else {
                throw MetaPoolError(.insufficientData, "the estimates are too extreme to draw on an axis in double precision (its limits overflow); check the yi and vi values or rescale them",
                                    at: InputLocation(file: source))
            }
            let n = Int(span)
            ticks = []
            for i in 0...max(n, 1) {
                let value: Double = lo + Double(i) * step
                ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            }
        } else {
            let decades = (hi - lo) / Double.log(10)
            let mantissas: [Double] = decades > 3 ? [1] : decades > 1.2 ? [1, 2, 5] : decades > 0.5 ? [1, 2, 3, 5] : [1, 1.5, 2, 3, 5, 7]
            let firstDecade = Int((lo / Double.log(10)).rounded(.down)) - 1
            let lastDecade = Int((hi / Double.log(10)).rounded(.up)) + 1
            var candidates: [Double] = []
            for d in firstDecade...lastDecade { for m in mantissas { candidates.append(m * Double.pow(10, Double(d))) } }
            // Near the ends of the Double range (log values near ±709) 10^d overflows or underflows.
            candidates = candidates.filter { $0.isFinite && $0 >= Double.leastNormalMagnitude }
            if candidates.isEmpty { candidates = [1] }
            let below = candidates.last { Double.log($0) <= lo + 1e-12 } ?? candidates[0]
            let above = candidates.first { Double.log($0) >= hi - 1e-12 } ?? candidates[candidates.count - 1]
            lo = Double.log(below)
            hi = Double.log(above)
            ticks = candidates.filter { $0 >= below * (1 - 1e-12) && $0 <= above * (1 + 1e-12) }
            if ticks.count > 9 { ticks = ticks.filter { Double.log10($0).rounded() == Double.log10($0) || $0 == 1 } }
            if ticks.count > 9 {
                // Estimates hundreds of decades apart (log values near ±709): every n-th decade,
                // so that the labels do not overlap; 1 and both ends stay.
                let stride = (ticks.count + 7) / 8
                let powers = ticks.map { Int(Double.log10($0).rounded()) }
                ticks = zip(ticks, powers).filter { $0.1 % stride == 0 || $0.0 == below || $0.0 == above }.map(\.0)
            }
        }
        return Axis(scale: scale, lower: inverse(lo), upper: inverse(hi), ticks: ticks, nullValue: nullValue, label: label)
    }
}

extension ForestPlot {
    /// The `forest` object of `pool --format json`: everything needed to draw the plot.
    public func summary() -> JSONValue {
        .object(summaryMembers(rows: .array(rows.map(rowSummary))))
    }

    /// One entry of the `rows` of ``summary()``.
    public func rowSummary(_ row: Row) -> JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        switch row {
        case .subgroupHeader(let label):
            return .object([("type", .string("subgroup_header")), ("label", .string(label))])
        case .study(let s):
            return .object([
                ("type", .string("study")), ("label", .string(s.label)),
                ("inputs", .object(s.inputs.map { ($0.0, .string($0.1)) })),
                ("estimate", number(s.estimate)), ("ci_lower", number(s.ciLower)), ("ci_upper", number(s.ciUpper)),
                ("weight", number(s.weight)), ("yi", number(s.yi)), ("vi", number(s.vi)),
            ] + studyIntervalMembers(s))
        case .subgroupDiamond(let d):
            return Self.diamondJSON(d, type: d.isCluster ? "cluster_diamond" : "subgroup_diamond")
        }
    }

    private static func diamondJSON(_ d: Diamond, type: String) -> JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        var m: [(String, JSONValue)] = [("type", .string(type)), ("label", .string(d.label)), ("k", .integer(d.k)),
                                        ("estimate", number(d.estimate)), ("ci_lower", number(d.ciLower)),
                                        ("ci_upper", number(d.ciUpper)), ("weight", number(d.weight))]
        if let tau2 = d.tauSquared { m.append(("tau2", number(tau2))) }
        if let i2 = d.iSquared { m.append(("i2", number(i2))) }
        if let q = d.q { m.append(("q", number(q))) }
        if let df = d.qDegreesOfFreedom { m.append(("q_df", .integer(df))) }
        if let p = d.qPValue { m.append(("q_p_value", number(p))) }
        return .object(m)
    }

    /// The members of ``summary()`` with `rows` as its `rows` member: a writer that streams the
    /// rows (``rowSummary(_:)`` of each) passes a placeholder and writes them in its place.
    public func summaryMembers(rows rowsJSON: JSONValue) -> [(String, JSONValue)] {
        func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        func diamondJSON(_ d: Diamond, type: String) -> JSONValue { Self.diamondJSON(d, type: type) }
        var members: [(String, JSONValue)] = [
            ("measure", .string(measure.rawValue)),
            ("level", .number(level)),
            ("count_headers", .array(countHeaders.map { .string($0) })),
            ("rows", rowsJSON),
            ("overall", diamondJSON(overall, type: "overall_diamond")),
            ("prediction_interval", predictionInterval.map {
                .object([("lower", number($0.lower)), ("upper", number($0.upper))]
                        + (predictionIntervalMethod.map { [("method", .string($0))] } ?? []))
            } ?? .null),
            ("axis", .object([
                ("scale", .string(axis.scale.rawValue)), ("lower", number(axis.lower)), ("upper", number(axis.upper)),
                ("ticks", .array(axis.ticks.map { number($0) })), ("null_value", number(axis.nullValue)),
                ("label", .string(axis.label)),
            ])),
        ]
        // Null values (an infinite natural-scale value) say why; values that underflow to 0 are not null.
        if let (_, y) = overflow, y > 0, let reason = BackTransform.overflowReason([.infinity]) { members.append(("overflow", .string(reason))) }
        members.append(("study_ci_method", .string(studyIntervalMethod.code)))
        if let bayesian { members.append(("bayes", bayesian.summary)) }
        if let t = subgroupTest {
            members.append(("test_subgroup_differences", .object([
                ("test", .string(t.name)), ("statistic", number(t.statistic)), ("df", .integer(t.degreesOfFreedom)),
                ("df2", t.denominatorDegreesOfFreedom.map { .integer($0) } ?? .null), ("p_value", number(t.pValue)),
            ])))
        }
        return members
    }
}
