// Input and model options shared by every subcommand.

import ArgumentParser
import MetaPool

extension EffectMeasure: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension TauSquaredMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

extension ConfidenceIntervalMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// The `--method` value, the library's ``PoolingMethod`` (GLMM with the default 7 points; the
/// `--quadrature-points` option sets them, see ``ModelOptions/pooling``).
extension PoolingMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { TauSquaredMethod.allCases.map(\.rawValue) + ["MH", "PETO", "GLMM"] }
    public var defaultValueDescription: String { code }

    var isGLMM: Bool { if case .glmm = self { true } else { false } }
}

/// `--robust-type`: CR2 or CR1 (case ignored).
extension ClusterRobustType: ExpressibleByArgument {
    public init?(argument: String) { self.init(code: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// An option value from a fixed list, matched case-insensitively (`--format JSON`, `--side Left`).
protocol CaseInsensitiveArgument: ExpressibleByArgument, CaseIterable, RawRepresentable<String> {}

extension CaseInsensitiveArgument {
    /// ArgumentParser's list for a CaseIterable type, from a closure: its own makes a key path at
    /// run time on every start (issue 15).
    public static var allValueStrings: [String] { allCases.map { $0.defaultValueDescription } }

    public init?(argument: String) {
        let wanted = argument.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == wanted }) else { return nil }
        self = match
    }
}

/// `--delimiter`: `,`, `;` or `tab`.
extension CSVDelimiter: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// A one-line warning on standard error: an option given that has no effect (the run goes on).
/// While ``MetaPoolCommand/parseCommand()`` tries its shortcut, warnings are held back instead
/// (printed if the shortcut's parse stands, dropped if the full parse repeats it).
func warn(_ message: String) {
    if heldWarnings != nil { heldWarnings?.append(message) } else { printError("warning: \(message)") }
}

/// The warnings ``warn(_:)`` holds back, or nil when it prints them (main thread only, during parsing).
nonisolated(unsafe) var heldWarnings: [String]?

/// `--format` of pool: table (for people), json (one object), csv (per-study rows).
enum OutputFormat: String, CaseInsensitiveArgument {
    case table, json, csv
}

/// `--format` of regress, sensitivity and bias, which have no per-study CSV: `--help` lists only
/// what they accept.
enum ReportFormat: String, CaseInsensitiveArgument {
    case table, json
}

/// `--by` and `--common-tau2`, shared by pool, forest and report.
struct SubgroupOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Fit each level of this column separately and test for subgroup differences (levels compared case-insensitively).", valueName: "column"))
    var by: String?

    @Flag(name: .customLong("common-tau2"),
          help: "With --by: one tau^2 for all subgroups (mixed-effects model with the subgroup as a factor, as metafor's rma(mods = ~ factor(g))); the test is its omnibus QM.")
    var commonTauSquared = false

    func validate() throws {
        if let message = Self.refusal(by: by, commonTauSquared: commonTauSquared) { throw ValidationError(message) }
    }

    /// What pool, forest and report refuse about `--common-tau2` (nil when fine); `pooling`, when
    /// given, also refuses it with the count-based methods (pool's own check, which `check` repeats).
    static func refusal(by: String?, commonTauSquared: Bool, pooling: PoolingMethod? = nil) -> String? {
        if commonTauSquared && by == nil { return "--common-tau2 applies to subgroups; give --by COLUMN as well" }
        // The GLMM takes the subgroup as a factor (rma.glmm(mods = ~ factor(g))); MH and Peto cannot.
        if commonTauSquared, let pooling, pooling.isCountBased, !pooling.isGLMM {
            return "--common-tau2 fits a mixed-effects meta-regression, an inverse-variance model; --method \(pooling.code) fits each subgroup on its own"
        }
        return nil
    }
}

/// The input file and the model: the same for every command.
struct ModelOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("CSV or JSON file with one row per study; - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Effect measure: PLO PR PAS PFT PLN (events,total), OR RR RD (two groups), HR, GEN. Default: from the columns.", valueName: "measure"))
    var measure: EffectMeasure?

    @Option(name: .customLong("method"), help: ArgumentHelp("Model and tau^2 estimator: FE DL REML ML PM HE SJ HS EB; for two-group counts also MH (Mantel-Haenszel, OR RR RD) and PETO (odds ratio); GLMM for events/total (PLO) or two-group counts (OR); BAYES for pool, forest and report: the Bayesian model, as --bayes.", valueName: "method"))
    var poolingMethod: PoolingMethod = .inverseVariance(.restrictedMaximumLikelihood)

    /// The pooling method, the GLMM with `--quadrature-points`.
    var pooling: PoolingMethod {
        if case .glmm = poolingMethod { return .glmm(quadraturePoints: quadraturePoints) }
        return poolingMethod
    }

    /// The library's description of the analysis these options ask for.
    var specification: AnalysisSpecification {
        var spec = AnalysisSpecification(pooling: pooling, measure: measure, ciMethod: ciMethod, level: level)
        spec.effectSizeOptions = effectSizeOptions
        (spec.cluster, spec.robust) = (cluster, robustChoice)
        return spec
    }

    // The three-level model's options, here rather than in an option group of their own (one
    // reflection pass fewer at every start, issue 15).
    @Option(help: ArgumentHelp("Cohorts within clusters: the column naming each row's cluster (e.g. trial). Fits the three-level model (REML or ML; GLMM for events/total), as metafor's rma.mv(random = ~ 1 | cluster/cohort).", valueName: "column"))
    var cluster: String?

    @Flag(help: "With --cluster: add cluster-robust inference for the pooled estimate: CR2 with Satterthwaite df (clubSandwich's coef_test), or CR1 with --robust-type CR1 (metafor's robust()).")
    var robust = false

    @Option(name: .customLong("robust-type"), help: ArgumentHelp("With --cluster: the cluster-robust estimator, CR2 (default) or CR1; implies --robust.", valueName: "type"))
    var robustType: ClusterRobustType?

    /// The cluster-robust estimator asked for (`--robust`, `--robust-type`), or `nil`.
    var robustChoice: ClusterRobustType? { robustType ?? (robust ? .cr2 : nil) }

    // `--hr-level`, `--add`, `--to`, `--drop00`, `--drop-missing` (EffectSizeOptions.swift): here rather
    // than in an @OptionGroup of their own, which cost a reflection pass at every start (issue 15).
    @Option(name: .customLong("hr-level"), help: ArgumentHelp("Confidence level of the hr_lower/hr_upper intervals, as 0.90 or 90 (rows with an hr_level cell use theirs).", valueName: "level"))
    var hazardRatioLevel: String?

    @Option(name: .customLong("add"), help: ArgumentHelp("Continuity correction added to the cells of counts, as escalc's add (default 0.5; 0 for PAS and PFT).", valueName: "value"))
    var add: Double?

    @Option(name: .customLong("to"), help: ArgumentHelp("Studies that get --add, as escalc's to: only0 (those with a zero cell), all, if0all (all, if any has a zero cell), none.", valueName: "studies"))
    var to: ContinuityCorrection.Target = .onlyZero

    @Flag(name: .customLong("drop00"), help: "Leave out two-group studies with no events in either group (or only events in both), as escalc's drop00; they are listed on stderr.")
    var dropDoubleZero = false

    @Flag(name: .customLong("drop-missing"), help: "Leave out rows with an empty or NA cell in a column the measure needs (as metafor's na.omit), listed on stderr and in the JSON, instead of refusing them.")
    var dropMissing = false

    /// The inverse-variance model (FE for the count-based methods, which have no τ²).
    var method: TauSquaredMethod {
        if case .inverseVariance(let m) = pooling { return m }
        return .fixedEffect
    }

    @Option(name: .customLong("quadrature-points"), help: ArgumentHelp("With --method GLMM: Gauss-Hermite quadrature points (adaptive); 1 is the Laplace approximation (default 7).", valueName: "n"))
    var quadraturePointsArgument: Int?

    /// `--quadrature-points`, 7 when not given.
    var quadraturePoints: Int { quadraturePointsArgument ?? 7 }

    /// Whether `--method` is MH, PETO or GLMM (models fitted to the counts themselves).
    var isCountBased: Bool { pooling.isCountBased }

    @Option(name: .customLong("ci"), help: ArgumentHelp("Confidence interval and test: wald, t, hksj (Hartung-Knapp-Sidik-Jonkman), hksj-adhoc; metafor's names z, knha and adhoc are accepted too.", valueName: "method"))
    var ciMethod: ConfidenceIntervalMethod = .wald

    @Option(help: ArgumentHelp("Confidence level, between 0 and 1.", valueName: "level"))
    var level: Double = 0.95

    @Option(name: .customLong("where"), help: ArgumentHelp("Analyse only rows whose COLUMN equals VALUE (spaces and case ignored); COLUMN!=VALUE leaves those rows out. Repeat: the same column gives alternatives, different columns must all match.", valueName: "column=value"))
    var conditions: [String] = []

    @Option(help: ArgumentHelp("Field separator: , ; or tab. Default: the one the header line uses (a note names ; and tab). With ; a decimal comma (0,42) is read as 0.42.", valueName: "delimiter"))
    var delimiter: CSVDelimiter?

    @Option(help: ArgumentHelp("The column of study labels. Default: the first of study, author, trial, name (case ignored).", valueName: "column"))
    var label: String?

    /// The parsed `--where` conditions (validated in `validate()`).
    var rowConditions: [RowCondition] { conditions.compactMap(RowCondition.init(parsing:)) }

    func validate() throws {
        try validateEffectSizeArguments()
        if let message = Self.refusal(pooling: pooling, measure: measure, ciMethod: ciMethod, level: level,
                                      quadraturePoints: quadraturePoints, correction: effectSizeOptions.continuityCorrection) {
            throw ValidationError(message)
        }
        for condition in conditions where RowCondition(parsing: condition) == nil {
            throw ValidationError("--where takes COLUMN=VALUE or COLUMN!=VALUE, e.g. --where endpoint=IC-ORR or --where study!=KAMILLA; got \"\(condition)\"")
        }
        if cluster == nil, robustChoice != nil {
            throw ValidationError("--robust needs --cluster COLUMN: the cluster-robust variance sums over the clusters (trials) that column names")
        }
        if let message = Self.clusterRefusal(cluster: cluster, pooling: pooling, ciMethod: ciMethod) { throw ValidationError(message) }
        if cluster != nil, pooling.isGLMM, let points = quadraturePointsArgument, points != 1 {
            throw ValidationError("--cluster with --method GLMM uses the Laplace approximation (lme4's nAGQ = 1, the only one it has for nested random effects); drop --quadrature-points \(points) or give 1")
        }
        if cluster != nil, pooling.isGLMM, robustChoice != nil {
            throw ValidationError("--robust gives the sandwich test of the inverse-variance three-level model; the three-level GLMM has none here (use --method REML or ML with --robust)")
        }
        for warning in inapplicable { warn(warning) }
    }

    /// What `--cluster` refuses among the model options (nil when they go together); `check`
    /// refuses a baseline that records such a combination with the same words.
    static func clusterRefusal(cluster: String?, pooling: PoolingMethod, ciMethod: ConfidenceIntervalMethod) -> String? {
        guard cluster != nil else { return nil }
        switch pooling {
        case .glmm:
            // Its --ci is checked with the GLMM's other options (wald or t).
            return nil
        case .inverseVariance(let m) where m == .restrictedMaximumLikelihood || m == .maximumLikelihood:
            if ciMethod != .wald && ciMethod != .t {
                return "--cluster fits the three-level model, whose interval is wald (z) or t (t on k - 1 df, as metafor's rma.mv(test = \"t\")); drop --ci \(ciMethod.rawValue)"
            }
            return nil
        default:
            return "--cluster fits the three-level model (cohorts within clusters) by REML or ML, or by --method GLMM for proportions; --method \(pooling.code) has no three-level form (try --method REML or ML)"
        }
    }

    /// Options given that cannot change the result, as what the warning says after `warning: `.
    var inapplicable: [String] {
        var out: [String] = []
        if quadraturePointsArgument != nil && !pooling.isGLMM {
            out.append("--quadrature-points has no effect without --method GLMM (ignored)")
        }
        // Hazard-ratio CIs are read only for HR; MH, PETO and GLMM pool counts.
        if hazardRatioLevel != nil, (measure.map { $0 != .hazardRatio } ?? false) || isCountBased {
            out.append("--hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); --\(isCountBased ? "method \(pooling.code)" : "measure \(measure?.rawValue ?? "")") has none (ignored)")
        }
        // The continuity correction acts on counts (escalc's add and to); HR and GEN have none.
        let correction = effectSizeOptions.continuityCorrection
        if let measure, measure == .hazardRatio || measure == .generic, correction.add != nil || correction.to != .onlyZero {
            out.append("--add and --to correct zero cells of counts; --measure \(measure.rawValue) has none (ignored)")
        }
        return out
    }

    /// What `pool` refuses among the model options, as its usage message (nil when they go
    /// together); `check` refuses a baseline that records such a combination with the same words.
    static func refusal(pooling: PoolingMethod, measure: EffectMeasure?, ciMethod: ConfidenceIntervalMethod, level: Double,
                        quadraturePoints: Int, correction: ContinuityCorrection) -> String? {
        if let message = EffectSizeArguments.refusal(pooling: pooling, correction: correction) { return message }
        guard level > 0, level < 1 else {
            return "--level must be between 0 and 1 (exclusive), e.g. 0.95; got \(level)"
        }
        guard pooling.isCountBased else { return nil }
        guard ciMethod == .wald || (ciMethod == .t && pooling.isGLMM) else {
            if pooling.isGLMM {
                return "--method GLMM takes --ci wald (z) or t (t on k - 1 df, as metafor's rma.glmm(test = \"t\")); drop --ci \(ciMethod.rawValue)"
            }
            return "--method \(pooling.code) uses z tests and Wald intervals, as metafor's rma.\(pooling == .peto ? "peto" : "mh") does; drop --ci \(ciMethod.rawValue)"
        }
        if pooling.isGLMM, let measure, measure != .logitProportion, measure != .oddsRatio {
            return "--method GLMM fits logit proportions (PLO, events/total) or odds ratios (OR, two-group counts); --measure \(measure.rawValue) is neither"
        }
        if pooling.isGLMM, !(1...100).contains(quadraturePoints) {
            return "--quadrature-points must be between 1 and 100; got \(quadraturePoints)"
        }
        if pooling == .peto, let measure, measure != .oddsRatio {
            return "--method PETO pools odds ratios; drop --measure \(measure.rawValue) or give --measure OR"
        }
        if pooling == .mantelHaenszel, let measure, ![.oddsRatio, .riskRatio, .riskDifference].contains(measure) {
            return "--method MH pools OR, RR or RD from two-group counts; --measure \(measure.rawValue) is not one of them"
        }
        return nil
    }

    @Flag(name: .customLong("allow-mixed-endpoints"),
          help: "Pool rows whose endpoint, outcome or measure column holds different values (refused by default unless --where or --by names that column); a note says what was mixed.")
    var allowMixedEndpoints = false

    /// The rows to analyse: the input read, `--where` applied, and rows that mix endpoints
    /// refused unless `--where`, `--by` or `--mods` (or `--batch-column`, per analysis) names the column or
    /// `--allow-mixed-endpoints` is given, in which case a note on standard error says what was mixed.
    func table(by: String? = nil) throws(MetaPoolError) -> DataTable {
        try table(comparing: by.map { [$0] } ?? [])
    }

    /// The rows to analyse, with `columns` (subgroups, moderators) exempt from the mixed-endpoint guard.
    func table(comparing columns: [String]) throws(MetaPoolError) -> DataTable {
        let table = try read(bytes: DataTable.readBytes(path: file))
        try checkOutcomes(table, comparing: columns)
        // --hr-level with the measure left to the columns: it applies only to hazard-ratio intervals.
        if hazardRatioLevel != nil, measure == nil, !isCountBased,
           table.columnIndex("hr_lower") == nil || table.columnIndex("hr_upper") == nil {
            warn("--hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); the input has none (ignored)")
        }
        // --drop-missing and --drop00: the rows left out are listed on stderr.
        let (kept, excluded) = try table.excludingStudies(measure: measure, options: effectSizeOptions)
        EffectSizeArguments.note(excluded)
        return kept
    }

    /// The input's rows as `--delimiter`, `--label` and `--where` ask, before the mixed-endpoint guard;
    /// a note on standard error names a delimiter other than a comma found in the header line.
    func read(bytes: [UInt8]) throws(MetaPoolError) -> DataTable {
        try Self.read(bytes: bytes, file: file, delimiter: delimiter, label: label, conditions: rowConditions, noting: Self.noteInput)
    }

    /// ``read(bytes:)`` for a recorded analysis too (`check` repeats it).
    static func read(bytes: [UInt8], file: String, delimiter: CSVDelimiter?, label: String?, conditions: [RowCondition],
                     noting note: (String) -> Void) throws(MetaPoolError) -> DataTable {
        let table = try DataTable.read(bytes: bytes, source: file, delimiter: delimiter)
        if delimiter == nil, let found = table.delimiter, found != .comma {
            let how = found == .semicolon ? "; decimal commas are read as points (0,42 as 0.42), as R's read.csv2 does" : ""
            note("note: \(file == "-" ? "<stdin>" : file): reading \(found == .tab ? "tab" : "'\(found.rawValue)'")-separated columns\(how)")
        }
        return try narrowed(table, label: label, conditions: conditions)
    }

    /// A table read with `--label` and `--where` applied (a CSV or JSON file, or JSON Lines for `--batch`).
    static func narrowed(_ table: DataTable, label: String?, conditions: [RowCondition]) throws(MetaPoolError) -> DataTable {
        var table = table
        if let label { table = try table.labeled(by: label) }
        return try table.selecting(conditions)
    }

    /// Prints a note about the input on standard error.
    static func noteInput(_ message: String) { printError(message) }

    /// The mixed-endpoint guard of ``table(by:)`` on a table already read; with `group`, values
    /// need agree only within each analysis of a batch.
    func checkOutcomes(_ table: DataTable, comparing columns: [String], within group: String? = nil) throws(MetaPoolError) {
        // Naming the values to keep exempts a column; leaving some out does not.
        let exempt = rowConditions.filter { !$0.excludes }.map(\.column) + columns
        if !allowMixedEndpoints { return try table.requireSingleOutcome(exempting: exempt, within: group) }
        for (column, values) in table.mixedOutcomes(exempting: exempt, within: group) { Self.noteMixed(column, values) }
    }

    /// The note on standard error that `--allow-mixed-endpoints` let different values of `column` through.
    static func noteMixed(_ column: String, _ values: [(value: String, count: Int)]) {
        let listed = values.map { "\($0.value) (\($0.count))" }.joined(separator: ", ")
        printError("note: --allow-mixed-endpoints: pooling rows with different \(column) values: \(listed)")
    }

    /// Reads the input and computes effect sizes.
    func effectSizes() throws(MetaPoolError) -> EffectSizes {
        try EffectSizes(table: table(), measure: measure, options: effectSizeOptions)
    }

    /// Fits the model the options describe.
    func fit() throws(MetaPoolError) -> MetaAnalysis {
        try MetaAnalysis(effectSizes(), method: method, ciMethod: ciMethod, level: level)
    }
}
