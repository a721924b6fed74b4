// The rows of a forest plot held as columns of study values (one array per value, the fit's own
// arrays shared where they are the same), each Row made when it is read: 10⁶ studies take about
// 60 bytes each rather than a 144-byte Row apiece, and the outputs walk them without copying.

extension ForestPlot {
    /// The rows of a plot, top to bottom: the studies and, with subgroups, their headers and
    /// diamonds. A collection of ``Row`` values, each made when it is read (O(1)).
    public struct Rows: RandomAccessCollection, Sendable {
        /// The studies' values.
        let studies: StudyColumns
        /// Row `i` is study `layout[i]` when that is not negative, else `others[-layout[i] - 1]`;
        /// `nil` when row `i` is study `i` (no subgroups).
        let layout: [Int]?
        /// The subgroup headers and diamonds.
        let others: [Row]

        public var startIndex: Int { 0 }
        public var endIndex: Int { layout?.count ?? studies.count }

        public subscript(i: Int) -> Row {
            guard let layout else { return .study(studies.study(i)) }
            let slot = layout[i]
            return slot >= 0 ? .study(studies.study(slot)) : others[-slot - 1]
        }

        /// The rows with each study's interval replaced by `interval(study)`.
        func withIntervals(_ interval: (Study) -> StudyInterval?) -> Rows {
            Rows(studies: studies.withIntervals(interval), layout: layout, others: others)
        }

        /// The subgroup headers and diamonds, in row order.
        var nonStudyRows: [Row] { others }

        /// The study of each study row, in row order (an index into ``studies``).
        var studyIndices: AnySequence<Int> {
            layout.map { AnySequence($0.lazy.filter { $0 >= 0 }) } ?? AnySequence(0..<studies.count)
        }
    }

    /// The values of a plot's studies, one array per value, in the order of the fit's studies.
    final class StudyColumns: Sendable {
        let labels: [String]
        /// The input cells of every study, or `nil` (no table).
        let inputCells: InputCells?
        /// Each study's row in ``inputCells`` (-1: none); `nil` when study `i` is row `i`.
        let inputRows: [Int]?
        let estimates: [Double]
        let ciLowers: [Double]
        let ciUppers: [Double]
        let weights: [Double]?
        let analysisIntervals: [Interval]
        let yi: [Double]
        let vi: [Double]
        /// Where each study's shown interval came from (`nil`: the study has none).
        let intervalSources: [StudyInterval.Source?]
        /// The bounds of each shown interval; `nil` while every one is the study's own
        /// (ciLower, ciUpper), as for every study whose interval is the Wald one.
        let intervalBounds: [Interval]?

        var count: Int { labels.count }

        /// Columns with no study interval set (``withIntervals(_:)`` sets them).
        init(labels: [String], inputCells: InputCells?, inputRows: [Int]?, estimates: [Double], ciLowers: [Double], ciUppers: [Double],
             weights: [Double]?, analysisIntervals: [Interval], yi: [Double], vi: [Double]) {
            self.labels = labels
            self.inputCells = inputCells
            self.inputRows = inputRows
            self.estimates = estimates
            self.ciLowers = ciLowers
            self.ciUppers = ciUppers
            self.weights = weights
            self.analysisIntervals = analysisIntervals
            self.yi = yi
            self.vi = vi
            intervalSources = Array(repeating: nil, count: labels.count)
            intervalBounds = nil
        }

        private init(copying c: StudyColumns, sources: [StudyInterval.Source?], bounds: [Interval]?) {
            labels = c.labels
            inputCells = c.inputCells
            inputRows = c.inputRows
            estimates = c.estimates
            ciLowers = c.ciLowers
            ciUppers = c.ciUppers
            weights = c.weights
            analysisIntervals = c.analysisIntervals
            yi = c.yi
            vi = c.vi
            intervalSources = sources
            intervalBounds = bounds
        }

        /// ``Study/shownLower`` of study `i`: its interval's bound, the Wald one where the interval has the same.
        func shownLower(_ i: Int) -> Double { intervalBounds?[i].lower ?? ciLowers[i] }
        /// ``Study/shownUpper`` of study `i`.
        func shownUpper(_ i: Int) -> Double { intervalBounds?[i].upper ?? ciUppers[i] }

        /// Study `i` as a ``Study`` value.
        func study(_ i: Int) -> Study {
            let row = inputRows?[i] ?? i
            let interval = intervalSources[i].map { source in
                intervalBounds.map { StudyInterval(lower: $0[i].lower, upper: $0[i].upper, source: source) }
                    ?? StudyInterval(lower: ciLowers[i], upper: ciUppers[i], source: source)
            }
            return Study(label: labels[i], inputCells: row < 0 ? nil : inputCells, inputRow: row, estimate: estimates[i],
                         ciLower: ciLowers[i], ciUpper: ciUppers[i], weight: weights?[i], analysisInterval: analysisIntervals[i],
                         yi: yi[i], vi: vi[i], interval: interval)
        }

        /// The columns with the interval of each study from `interval` (given the study as it is).
        func withIntervals(_ interval: (Study) -> StudyInterval?) -> StudyColumns {
            let (sources, bounds) = Self.intervals(of: self, interval)
            return StudyColumns(copying: self, sources: sources, bounds: bounds)
        }

        /// The sources and bounds of `interval(study)` for each study of `base`; the bounds only
        /// when some interval's differ (bit for bit) from its study's Wald interval.
        static func intervals(of base: StudyColumns, _ interval: (Study) -> StudyInterval?)
            -> (sources: [StudyInterval.Source?], bounds: [Interval]?) {
            var sources: [StudyInterval.Source?] = []
            sources.reserveCapacity(base.count)
            var bounds: [Interval]?
            for i in 0..<base.count {
                let shown = interval(base.study(i))
                sources.append(shown?.source)
                let lower = shown?.lower ?? base.ciLowers[i], upper = shown?.upper ?? base.ciUppers[i]
                if bounds == nil, lower.bitPattern != base.ciLowers[i].bitPattern || upper.bitPattern != base.ciUppers[i].bitPattern {
                    var all: [Interval] = []
                    all.reserveCapacity(base.count)
                    for j in 0..<i { all.append(Interval(base.ciLowers[j], base.ciUppers[j])) }
                    bounds = all
                }
                bounds?.append(Interval(lower, upper))
            }
            return (sources, bounds)
        }
    }
}
