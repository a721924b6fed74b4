// The one error type the library throws: what went wrong, and where in the input.

/// Where in the input a problem was found.
///
/// `row` counts data rows from 1 (the header is not a data row); `line` is the
/// physical line of the file where that row starts, when the input is a CSV file.
public struct InputLocation: Sendable, Hashable {
    /// The file name as the user gave it (`-` or `nil` for standard input or in-memory data).
    public var file: String?
    /// The 1-based data row (header excluded).
    public var row: Int?
    /// The 1-based physical line where the row starts (CSV only).
    public var line: Int?
    /// The column name.
    public var column: String?
    /// The study label of the row, when known.
    public var study: String?

    /// A location; every part is optional, `nil` where unknown.
    public init(file: String? = nil, row: Int? = nil, line: Int? = nil, column: String? = nil, study: String? = nil) {
        self.file = file
        self.row = row
        self.line = line
        self.column = column
        self.study = study
    }
}

/// A typed error from MetaPool. Every invalid input the library can be given is
/// reported as one of these; nothing in the public API traps on bad data.
public struct MetaPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; callers switch on it.
    public enum Kind: String, Sendable, Hashable {
        /// The file could not be opened or read.
        case unreadableInput
        /// The bytes are not UTF-8 text.
        case notUTF8
        /// The input has no header or no data rows.
        case emptyInput
        /// The CSV or JSON structure is broken (unterminated quote, short row, …).
        case malformedInput
        /// A column the analysis needs is missing, duplicated or unknown.
        case missingColumn
        /// A cell holds a value the analysis cannot use (non-numeric, negative count, …).
        case invalidValue
        /// The data cannot support the requested analysis (too few studies, measure undefined, …).
        case insufficientData
        /// An iterative algorithm did not converge; no estimate is given.
        case noConvergence
        /// An option or argument is invalid (unknown measure or method, level outside (0, 1), …).
        case invalidArgument
        /// The rows mix outcomes (endpoints or effect measures) the analysis would pool as one.
        case mixedOutcomes
        /// A system library the analysis needs (LAPACKE and OpenBLAS, loaded on first use by the
        /// meta-regression and the GLMM) could not be loaded.
        case unavailableLibrary
    }

    /// What the caller can change instead, in terms of the analysis. ``description`` says it in
    /// words; a front end (the `metapool` CLI) may name its own options instead.
    public enum Remedy: Sendable, Hashable {
        /// Other models or τ² estimators, by metafor's method codes ("FE", "DL", …).
        case methods([String])
        /// Other confidence-interval methods ("hksj-adhoc", "t", …).
        case intervals([String])
        /// Name the effect measure instead of letting the columns decide.
        case measure
        /// Select one value of an outcome column, fit its values as subgroups, or allow mixing
        /// explicitly (`example` is one of the values present).
        case outcome(column: String, example: String)
        /// Leave out rows with empty cells (``EffectSizeOptions/dropMissing``), or fill them in.
        case dropMissing

        /// The remedy in words, for library users.
        public var text: String {
            switch self {
            case .methods(let m): "(the \(m.joined(separator: " or ")) model may fit)"
            case .intervals(let i): "(the \(i.joined(separator: " or ")) interval is defined here)"
            case .measure: "(name the effect measure)"
            case .outcome(let column, let example):
                "; select one (rows with \(column) = \(example)), fit the values as subgroups of \(column), or allow mixed outcomes explicitly"
            case .dropMissing: "(fill it in, remove the row, or leave such rows out with the dropMissing effect-size option)"
            }
        }
    }

    /// The analysis setting an error is about, so that a front end can name its own option for it.
    public enum Setting: String, Sendable, Hashable {
        /// The moderator columns of a meta-regression.
        case moderators
        /// The column that defines subgroups.
        case subgroups
        /// One τ² common to all subgroups.
        case commonTauSquared
        /// The selection of rows by column values.
        case rowSelection
        /// Leaving out double-zero studies (escalc's `drop00`).
        case dropDoubleZero
        /// The column that labels the studies.
        case studyLabels
        /// The column whose values are the clusters (trials) of a three-level model.
        case cluster

        /// How the library names the setting at the start of a message.
        public var phrase: String {
            switch self {
            case .moderators: "the moderator list"
            case .subgroups: "the subgroup setting"
            case .commonTauSquared: "a common tau^2"
            case .rowSelection: "the selection"
            case .dropDoubleZero: "drop00"
            case .studyLabels: "the label column setting"
            case .cluster: "the cluster column"
            }
        }
    }

    /// What kind of problem this is (see ``Kind``).
    public var kind: Kind
    /// Where in the input the problem was found.
    public var location: InputLocation
    /// A sentence saying what is wrong: after ``setting``'s phrase, or with the phrase where the
    /// sentence has the placeholder `{setting}`.
    public var reason: String
    /// What to do instead, where the library can say.
    public var remedy: Remedy?
    /// The setting the reason is about, when it is one.
    public var setting: Setting?

    /// An error of `kind` with its `reason` sentence, located in the input where known.
    public init(_ kind: Kind, _ reason: String, at location: InputLocation = InputLocation(),
                remedy: Remedy? = nil, setting: Setting? = nil) {
        self.kind = kind
        self.reason = reason
        self.location = location
        self.remedy = remedy
        self.setting = setting
    }

    /// `file, row 3 (line 4, study "Smith"), column "events": reason`, the setting and remedy in words.
    public var description: String {
        description(setting: \.phrase, remedy: \.text)
    }

    /// The message with the setting and the remedy named by the caller (a CLI names its options).
    public func description(setting name: (Setting) -> String, remedy text: (Remedy) -> String) -> String {
        var sentence = reason
        if let setting {
            let phrase = name(setting)
            sentence = sentence.contains("{setting}") ? sentence.replacingAll("{setting}", with: phrase) : phrase + " " + sentence
        }
        if let remedy {
            let addition = text(remedy)
            sentence += (addition.hasPrefix(";") || addition.hasPrefix(",") ? "" : " ") + addition
        }
        return Self.located(location, sentence)
    }

    /// `file, row 3 (line 4, study "Smith"), column "events": sentence`
    static func located(_ location: InputLocation, _ reason: String) -> String {
        var place: [String] = []
        if let file = location.file { place.append(file == "-" ? "<stdin>" : file) }
        if let row = location.row {
            var extra: [String] = []
            if let line = location.line { extra.append("line \(line)") }
            if let study = location.study, !study.isEmpty { extra.append("study \"\(Self.shortened(study))\"") }
            place.append("row \(row)" + (extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")"))
        } else if let line = location.line {
            place.append("line \(line)")
        }
        if let column = location.column { place.append("column \"\(Self.shortened(column))\"") }
        return place.isEmpty ? reason : place.joined(separator: ", ") + ": " + reason
    }

    /// A study label or column name as the message shows it: at most 60 characters, so that a
    /// megabyte-long label does not make a megabyte-long message (the cell values quoted in
    /// reasons are cut at 40 the same way).
    static func shortened(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}

extension String {
    /// Every occurrence of `target` replaced (FoundationEssentials-free).
    func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while !target.isEmpty, let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
