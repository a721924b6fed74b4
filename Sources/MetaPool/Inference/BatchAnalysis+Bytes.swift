// The batch's fast reader: analyses of generic effects (yi, vi) or proportions (events, total)
// read straight from the bytes of a CSV or JSON Lines file, with no DataTable, no String per cell
// and no allocation per study.
//
// It reads only what it can read exactly as the general reader (DataTable, then EffectSizes and
// the batch grouping) would: it returns `nil` at the first thing it does not handle (a missing
// cell, a quoted number, an analysis whose rows are not together, a bad value, other columns
// that could change the result) and the caller reads the input the general way, which gives the
// same analyses or the error naming the file, row and column. Tests check that both readers give
// identical analyses on random files.

extension BatchAnalysis {
    /// The analyses of a batch in CSV (a header with `column` and `yi`, `vi` or `events`, `total`, one row per study,
    /// the rows of each analysis together), or `nil` when the input needs the general reader
    /// (``analyses(from:column:measure:options:)`` on ``DataTable/read(bytes:source:delimiter:)``).
    ///
    /// `bytes` must already be checked as UTF-8 text (``DataTable/readBytes(path:maximumSize:what:)``).
    public static func fastAnalyses(csv bytes: [UInt8], column: String = "analysis", delimiter: CSVDelimiter? = nil,
                                    measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions()) -> [Analysis]? {
        guard let layout = CSVBatchLayout(bytes, column: column, delimiter: delimiter, measure: measure, options: options),
              let analyses = layout.analyses(bytes, layout.body)?.analyses, !analyses.isEmpty else { return nil }
        return analyses
    }

    /// ``fastAnalyses(csv:column:delimiter:measure:options:)`` with the rows parsed on `tasks`
    /// parallel child tasks, each a stretch of whole analyses (the file cut where the identifier
    /// changes; only a file with no quote at all is cut, so that no cut falls inside a quoted field).
    public static func fastAnalyses(csv bytes: [UInt8], column: String = "analysis", delimiter: CSVDelimiter? = nil,
                                    measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions(),
                                    tasks: Int) async -> [Analysis]? {
        guard let layout = CSVBatchLayout(bytes, column: column, delimiter: delimiter, measure: measure, options: options) else { return nil }
        let parts = tasks > 1 && layout.body.count > 1 << 20 ? layout.cut(bytes, into: tasks) : [layout.body]
        if parts.count == 1 {
            guard let analyses = layout.analyses(bytes, layout.body)?.analyses, !analyses.isEmpty else { return nil }
            return analyses
        }
        let read = await withTaskGroup(of: (Int, (analyses: [Analysis], seen: Set<UInt64>)?).self) { group in
            for (n, part) in parts.enumerated() { group.addTask { (n, layout.analyses(bytes, part)) } }
            var read = [(analyses: [Analysis], seen: Set<UInt64>)?](repeating: nil, count: parts.count)
            for await (n, result) in group { read[n] = result }
            return read
        }
        var analyses: [Analysis] = []
        var seen = Set<UInt64>()
        for part in read {
            // A part the fast reader refused, or an analysis in two parts (its rows not together).
            guard let part else { return nil }
            let before = seen.count
            seen.formUnion(part.seen)
            guard seen.count == before + part.seen.count else { return nil }
            analyses += part.analyses
        }
        return analyses.isEmpty ? nil : analyses
    }

    /// The analyses of a batch in JSON Lines whose every line is an object with the identifier
    /// `column` (a string without escapes, or a number) and the arrays `yi` and `vi` (or `events`
    /// and `total`; the same pair on every line) of numbers,
    /// or `nil` when the input needs the general reader (``DataTable/readJSONLines(_:source:idColumn:)``).
    public static func fastAnalyses(jsonLines bytes: [UInt8], column: String = "analysis",
                                    measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions()) -> [Analysis]? {
        guard let setup = jsonLinesSetup(head: bytes, column: column, measure: measure, options: options) else { return nil }
        return bytes.withUnsafeBufferPointer { all -> [Analysis]? in
            let start = all.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var reader = GroupedStudies(measure: setup.measure)
            var line = JSONLineScanner(bytes: all, position: start, wanted: setup.wanted, pair: setup.pair)
            while let ok = line.next(into: &reader) {
                guard ok else { return nil }
            }
            guard let analyses = reader.finish(), !analyses.isEmpty else { return nil }
            return analyses
        }
    }

    /// What the JSON Lines fast reader looks for: the identifier key (trimmed, lower case), the
    /// keys of the two arrays and the measure, the pair guessed from the first 4 KiB of `head`
    /// when `measure` is `nil` (a line with the other pair sends the input to the general reader);
    /// `nil` when the fast reader does not take the batch.
    static func jsonLinesSetup(head: [UInt8], column: String, measure: EffectMeasure?,
                               options: EffectSizeOptions) -> (wanted: [UInt8], pair: ([UInt8], [UInt8]), measure: EffectMeasure)? {
        guard options.isDefault else { return nil }
        let wanted = Array(column.trimmingSpaces().lowercased().utf8)
        let pair: (String, String), effect: EffectMeasure
        switch measure?.family {
        case nil:
            let text = String(decoding: head.prefix(4096), as: UTF8.self).lowercased()
            (pair, effect) = text.contains("\"events\"") ? (("events", "total"), DataFamily.proportion.measures[0]) : (("yi", "vi"), .generic)
        case .generic?: (pair, effect) = (("yi", "vi"), .generic)
        case .proportion?: (pair, effect) = (("events", "total"), measure!)
        default: return nil
        }
        guard !wanted.isEmpty, wanted != Array(pair.0.utf8), wanted != Array(pair.1.utf8) else { return nil }
        return (wanted, (Array(pair.0.utf8), Array(pair.1.utf8)), effect)
    }

    /// The indices of the identifier and the two value columns (`yi`, `vi` or `events`, `total`)
    /// in a header that holds them and nothing that could change how the general reader reads the
    /// rows: one family of columns only (no `se`, two-group counts or hazard ratios beside them), no
    /// outcome column (the mixed-endpoint guard), names unique; and the measure of the analyses.
    static func valueColumns(_ names: [String], id: String, measure: EffectMeasure?) -> (id: Int, first: Int, second: Int, measure: EffectMeasure)? {
        let folded = names.map { $0.lowercased() }
        guard Set(folded).count == names.count, !folded.contains(""),
              !folded.contains(where: { DataTable.outcomeColumns.contains($0) }) else { return nil }
        let probe = DataTable(columns: names, rows: [])
        guard DataFamily.detect(in: probe).count == 1, let (family, columns) = try? EffectSizes.source(of: probe, measure: measure),
              columns == ["yi", "vi"] || columns == ["events", "total"],
              let i = probe.columnIndex(id), let a = probe.columnIndex(columns[0]), let b = probe.columnIndex(columns[1]), i != a, i != b
        else { return nil }
        return (i, a, b, measure ?? family.measures[0])
    }
}

/// A CSV batch's header as the fast reader needs it: where the body starts, the delimiter, and
/// the columns of the identifier and the two values.
struct CSVBatchLayout: Sendable {
    /// The bytes after the header line (offsets into the input).
    let body: Range<Int>
    let delimiter: CSVDelimiter
    let columnCount: Int
    let idIndex: Int, firstIndex: Int, secondIndex: Int
    let measure: EffectMeasure
}

extension CSVBatchLayout {
    /// The layout of a CSV batch the fast reader can read, or `nil` (see ``BatchAnalysis/fastAnalyses(csv:column:delimiter:measure:options:)``).
    init?(_ bytes: [UInt8], column: String, delimiter given: CSVDelimiter?, measure: EffectMeasure?, options: EffectSizeOptions) {
        guard options.isDefault, given != .semicolon else { return nil }
        let found: (CSVBatchLayout)? = bytes.withUnsafeBufferPointer { all -> CSVBatchLayout? in
            let start = all.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            let buffer = UnsafeBufferPointer(rebasing: all[start...])
            guard let first = buffer.first(where: { !CSVScanner.isSpace($0) }),
                  first != UInt8(ascii: "["), first != UInt8(ascii: "{") else { return nil }
            // A sniffed delimiter other than a comma is noted on standard error by the general reader.
            let delimiter = given ?? DataTable.sniffDelimiter(buffer)
            guard delimiter != .semicolon, delimiter == .comma || delimiter == given else { return nil }
            var scanner = CSVScanner(buffer, separator: delimiter.byte)
            while let _ = try? scanner.nextRecord(source: nil, delimiter: delimiter) {
                let fields = scanner.fields
                if fields.count == 1 && scanner.isBlank(fields[0]) { continue }
                let names = fields.map { scanner.string($0).trimmingSpaces() }
                guard let found = BatchAnalysis.valueColumns(names, id: column, measure: measure) else { return nil }
                return CSVBatchLayout(body: (start + scanner.position)..<all.count, delimiter: delimiter, columnCount: names.count,
                                      idIndex: found.id, firstIndex: found.first, secondIndex: found.second, measure: found.measure)
            }
            return nil
        }
        guard let found else { return nil }
        self = found
    }

    /// The analyses of the rows in `bytes[range]` and the hashes of their identifiers, or `nil`.
    func analyses(_ bytes: [UInt8], _ range: Range<Int>) -> (analyses: [BatchAnalysis.Analysis], seen: Set<UInt64>)? {
        bytes.withUnsafeBufferPointer { all -> (analyses: [BatchAnalysis.Analysis], seen: Set<UInt64>)? in
            let buffer = UnsafeBufferPointer(rebasing: all[range])
            var reader = GroupedStudies(measure: measure)
            // Lines with no quote and no bare CR are split in place; from the first other line on,
            // the RFC 4180 scanner reads the rest.
            let rest: Int?
            switch readPlainLines(buffer, into: &reader) {
            case .failed: return nil
            case .done: rest = nil
            case .other(let lineStart): rest = lineStart
            }
            if let rest {
                var scanner = CSVScanner(buffer, separator: delimiter.byte, start: rest)
                do {
                    while let _ = try scanner.nextRecord(source: nil, delimiter: delimiter) {
                        let fields = scanner.fields
                        if fields.count == 1 && scanner.isBlank(fields[0]) { continue }
                        guard fields.count == columnCount else { return nil }
                        let id = fields[idIndex]
                        guard !id.escaped, scanner.isASCII(id) else { return nil }
                        let idRange = scanner.trimmed(id)
                        let y = fields[firstIndex], v = fields[secondIndex]
                        guard !y.escaped, !v.escaped,
                              let yi = DecimalText.parse(buffer, scanner.trimmed(y)),
                              let vi = DecimalText.parse(buffer, scanner.trimmed(v)),
                              reader.add(id: UnsafeBufferPointer(rebasing: buffer[idRange]), yi: yi, vi: vi) else { return nil }
                    }
                } catch {
                    return nil
                }
            }
            guard let analyses = reader.finish() else { return nil }
            return (analyses, reader.seen)
        }
    }

    /// How ``readPlainLines(_:into:)`` ended.
    enum PlainLines {
        /// Every line was read.
        case done
        /// A line the fast reader cannot take as it is (a value, an identifier, a row length).
        case failed
        /// The line starting here holds a quote or a CR not followed by LF: the RFC 4180 scanner reads from it.
        case other(Int)
    }

    /// Reads the rows of `buffer` (whole lines) into `reader`, each line split in place at the
    /// separator: no quote, fields as the RFC 4180 reader gives them (a CR LF line end is a line
    /// end there too, RFC 4180 section 2, rule 1), blank lines skipped.
    func readPlainLines(_ buffer: UnsafeBufferPointer<UInt8>, into reader: inout GroupedStudies) -> PlainLines {
        var i = 0
        let n = buffer.count, separator = delimiter.byte
        while i < n {
            let lineStart = i
            var field = 0, fieldStart = i
            var idRange = 0..<0, firstRange = 0..<0, secondRange = 0..<0
            var lineEnd = n
            while true {
                var b: UInt8 = i < n ? buffer[i] : UInt8(ascii: "\n")
                if b == UInt8(ascii: "\r") {
                    guard i + 1 < n, buffer[i + 1] == UInt8(ascii: "\n") else { return .other(lineStart) }
                    b = UInt8(ascii: "\n")
                }
                if b == separator || b == UInt8(ascii: "\n") {
                    if field == idIndex { idRange = fieldStart..<i } else if field == firstIndex { firstRange = fieldStart..<i }
                    else if field == secondIndex { secondRange = fieldStart..<i }
                    field += 1
                    fieldStart = i + 1
                    if b == UInt8(ascii: "\n") {
                        lineEnd = i
                        if i < n, buffer[i] == UInt8(ascii: "\r") { i += 1 }
                        break
                    }
                } else if b == UInt8(ascii: "\"") {
                    return .other(lineStart)
                }
                i += 1
            }
            i += 1
            if field == 1 && Self.plainTrimmed(buffer, lineStart..<lineEnd).isEmpty { continue }  // a blank line
            guard field == columnCount, Self.isASCII(buffer, idRange),
                  let yi = DecimalText.parse(buffer, Self.plainTrimmed(buffer, firstRange)),
                  let vi = DecimalText.parse(buffer, Self.plainTrimmed(buffer, secondRange)),
                  reader.add(id: UnsafeBufferPointer(rebasing: buffer[Self.plainTrimmed(buffer, idRange)]), yi: yi, vi: vi)
            else { return .failed }
        }
        return .done
    }

    /// `range` without leading and trailing spaces and tabs (a line split in place has no CR or LF).
    private static func plainTrimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var a = range.lowerBound, b = range.upperBound
        while a < b, bytes[a] == 0x20 || bytes[a] == 0x09 { a += 1 }
        while b > a, bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09 { b -= 1 }
        return a..<b
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        for i in range where bytes[i] >= 0x80 { return false }
        return true
    }

    /// The body cut into about `parts` stretches of whole lines, each cut where the identifier of
    /// a line differs from the line's before; one stretch when the body holds a quote (a cut could
    /// fall inside a quoted field) or no such place is found.
    func cut(_ bytes: [UInt8], into parts: Int) -> [Range<Int>] {
        bytes.withUnsafeBufferPointer { all -> [Range<Int>] in
            let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n")
            if all[body].contains(quote) { return [body] }
            /// The identifier field of the line starting at `i` (trimmed, lower case), and where the next line starts.
            func line(at i: Int) -> (id: [UInt8], next: Int) {
                var end = i
                while end < body.upperBound, all[end] != lf { end += 1 }
                var field = 0, start = i, id: [UInt8] = []
                for j in i...end where j == end || all[j] == delimiter.byte {
                    if field == idIndex {
                        id = all[start..<j].filter { !CSVScanner.isSpace($0) }.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
                        break
                    }
                    field += 1
                    start = j + 1
                }
                return (id, end + 1)
            }
            var cuts = [body.lowerBound]
            for n in 1..<parts {
                var i = body.lowerBound + body.count * n / parts
                guard i > cuts.last! else { continue }
                while i < body.upperBound, all[i - 1] != lf { i += 1 }  // the start of a line
                guard i < body.upperBound else { break }
                var previous = line(at: i)
                i = previous.next
                // Move on until the identifier changes: the cut keeps each analysis in one part.
                while i < body.upperBound {
                    let here = line(at: i)
                    if here.id != previous.id { break }
                    previous = here
                    i = here.next
                }
                if i < body.upperBound { cuts.append(i) }
            }
            cuts.append(body.upperBound)
            return zip(cuts, cuts.dropFirst()).map { $0..<$1 }
        }
    }
}

/// Studies arriving analysis by analysis: the two values of every study (yᵢ and vᵢ, or events and
/// total) in two flat arrays, each analysis a range of them, its identifier kept once.
struct GroupedStudies {
    /// `.generic` for yᵢ, vᵢ; a proportion measure for events and totals.
    let measure: EffectMeasure
    var yi: [Double] = []
    var vi: [Double] = []
    var groups: [(id: String, start: Int)] = []
    /// Hashes of the identifiers seen so far, trimmed and in lower case (an analysis that comes back
    /// after another is merged by the general reader; here it sends the input there, as does the
    /// rare collision of two hashes, which costs only the general reader's time).
    var seen = Set<UInt64>()
    var currentKey: [UInt8] = []
    /// The key of the first analysis (for joining pieces of a file read in pieces).
    var firstKey: [UInt8] = []

    init(measure: EffectMeasure) { self.measure = measure }

    /// Whether the general reader takes a study's two values as they are (for counts, the checks
    /// come with the effect sizes in ``finish()``): ``EffectSizes`` requires a finite yᵢ and
    /// vᵢ ≥ ``EffectSizes/smallestVariance``.
    func acceptable(_ y: Double, _ v: Double) -> Bool {
        measure != .generic || (y.isFinite && v.isFinite && v > 0 && v >= EffectSizes.smallestVariance)
    }

    /// Adds one study of the analysis `id` (ASCII); `false` when the input must go to the general
    /// reader: an empty identifier, an analysis whose studies are not together, a value the
    /// general reader refuses.
    mutating func add(id: UnsafeBufferPointer<UInt8>, yi y: Double, vi v: Double) -> Bool {
        guard acceptable(y, v), !id.isEmpty else { return false }
        if !(groups.isEmpty ? false : Self.sameKey(id, currentKey)) {
            guard let key = Self.key(id) else { return false }
            guard seen.insert(Self.hash(key)).inserted else { return false }
            if groups.isEmpty { firstKey = key }
            currentKey = key
            groups.append((String(decoding: id, as: UTF8.self), yi.count))
        }
        yi.append(y)
        vi.append(v)
        return true
    }

    /// Starts an analysis that a JSON Lines line gives whole (its identifier as written).
    mutating func begin(id: String, key: [UInt8]) -> Bool {
        guard seen.insert(Self.hash(key)).inserted else { return false }
        groups.append((id, yi.count))
        return true
    }

    /// FNV-1a, 64 bits (Fowler, Noll and Vo; IETF draft-eastlake-fnv, section 2).
    static func hash(_ key: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The identifier in lower case; `nil` when it is not ASCII.
    static func key(_ id: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var key = [UInt8]()
        key.reserveCapacity(id.count)
        for b in id {
            guard b < 0x80 else { return nil }
            key.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
        }
        return key
    }

    static func sameKey(_ id: UnsafeBufferPointer<UInt8>, _ key: [UInt8]) -> Bool {
        guard id.count == key.count else { return false }
        for i in 0..<id.count {
            let b = id[i]
            if (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b) != key[i] { return false }
        }
        return true
    }

    /// The analyses, or `nil` when there were no studies (the general reader names the problem).
    func finish() -> [BatchAnalysis.Analysis]? {
        var analyses: [BatchAnalysis.Analysis] = []
        analyses.reserveCapacity(groups.count)
        for (g, group) in groups.enumerated() {
            let end = g + 1 < groups.count ? groups[g + 1].start : yi.count
            guard end > group.start else { return nil }
            let first = Array(yi[group.start..<end]), second = Array(vi[group.start..<end])
            if measure == .generic {
                analyses.append(BatchAnalysis.Analysis(id: group.id, yi: first, vi: second, measure: .generic, harmonicMeanTotal: .nan))
                continue
            }
            // Counts: the effect sizes and their checks as the general reader computes them (escalc's
            // default correction, ½ only where a study has 0 or all events, is per study, so an
            // analysis's studies give the same values as the whole table's); any error goes there.
            guard let effects = try? EffectSizes.proportions(events: first, totals: second, measure: measure, labels: nil, locations: nil)
            else { return nil }
            // The harmonic mean of the totals as the general reader's grouping computes it.
            let harmonic = Double(second.count) / second.reduce(0) { $0 + 1 / $1 }
            analyses.append(BatchAnalysis.Analysis(id: group.id, yi: effects.yi, vi: effects.vi, measure: measure, harmonicMeanTotal: harmonic))
        }
        return analyses
    }
}

/// Reads JSON Lines objects `{"analysis": "id", "yi": [..], "vi": [..]}` from bytes, one line at a
/// time, into ``GroupedStudies``; anything else makes ``next(into:)`` return `false`.
struct JSONLineScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    /// The identifier key, trimmed and in lower case.
    let wanted: [UInt8]
    /// The keys of the two arrays, in lower case (`yi`, `vi` or `events`, `total`).
    let pair: ([UInt8], [UInt8])
    private var ys: [Double] = []
    private var vs: [Double] = []

    init(bytes: UnsafeBufferPointer<UInt8>, position: Int, wanted: [UInt8], pair: ([UInt8], [UInt8])) {
        self.bytes = bytes
        self.position = position
        self.wanted = wanted
        self.pair = pair
    }

    /// Reads the next non-blank line: `true` when it was read, `false` when the input must go to
    /// the general reader, `nil` at the end of the input.
    mutating func next(into reader: inout GroupedStudies) -> Bool? {
        while position < bytes.count {
            var end = position
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let lineStart = position
            position = end + 1
            var i = lineStart
            skipSpace(&i, end)
            if i == end { continue }  // a blank line
            return parseObject(&i, end, into: &reader) ? true : false
        }
        return nil
    }

    private func skipSpace(_ i: inout Int, _ end: Int) {
        while i < end, CSVScanner.isSpace(bytes[i]) { i += 1 }
    }

    /// A string without escapes or control characters, ASCII; its range inside the quotes.
    private func string(_ i: inout Int, _ end: Int) -> Range<Int>? {
        guard i < end, bytes[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        while i < end, bytes[i] != UInt8(ascii: "\"") {
            let b = bytes[i]
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        guard i < end else { return nil }
        i += 1
        return start..<(i - 1)
    }

    /// A number token: its range (the characters a number may hold; checked by DecimalText).
    private func numberToken(_ i: inout Int, _ end: Int) -> Range<Int> {
        let start = i
        while i < end {
            let b = bytes[i]
            guard b &- UInt8(ascii: "0") < 10 || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b | 0x20 == UInt8(ascii: "e") else { break }
            i += 1
        }
        return start..<i
    }

    private mutating func parseObject(_ i: inout Int, _ end: Int, into reader: inout GroupedStudies) -> Bool {
        guard bytes[i] == UInt8(ascii: "{") else { return false }
        i += 1
        var id: String?
        var idKey: [UInt8] = []
        var sawY = false, sawV = false
        ys.removeAll(keepingCapacity: true)
        vs.removeAll(keepingCapacity: true)
        while true {
            skipSpace(&i, end)
            guard let keyRange = string(&i, end) else { return false }
            skipSpace(&i, end)
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace(&i, end)
            var a = keyRange.lowerBound, b = keyRange.upperBound
            while a < b, CSVScanner.isSpace(bytes[a]) { a += 1 }
            while b > a, CSVScanner.isSpace(bytes[b - 1]) { b -= 1 }
            let key = UnsafeBufferPointer(rebasing: bytes[a..<b])
            if GroupedStudies.sameKey(key, wanted) {
                guard id == nil, i < end else { return false }
                let raw: Range<Int>
                if bytes[i] == UInt8(ascii: "\"") {
                    guard let r = string(&i, end) else { return false }
                    raw = r
                } else {
                    raw = numberToken(&i, end)
                    guard DecimalText.parse(bytes, raw, json: true) != nil else { return false }
                }
                // The general reader names the analysis as written and compares it trimmed, in lower case.
                var p = raw.lowerBound, q = raw.upperBound
                while p < q, CSVScanner.isSpace(bytes[p]) { p += 1 }
                while q > p, CSVScanner.isSpace(bytes[q - 1]) { q -= 1 }
                guard p < q, let k = GroupedStudies.key(UnsafeBufferPointer(rebasing: bytes[p..<q])) else { return false }
                id = String(decoding: UnsafeBufferPointer(rebasing: bytes[raw]), as: UTF8.self)
                idKey = k
            } else if GroupedStudies.sameKey(key, pair.0) {
                guard !sawY, array(&i, end, into: &ys) else { return false }
                sawY = true
            } else if GroupedStudies.sameKey(key, pair.1) {
                guard !sawV, array(&i, end, into: &vs) else { return false }
                sawV = true
            } else {
                return false
            }
            skipSpace(&i, end)
            guard i < end else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { return false }
            i += 1
            break
        }
        skipSpace(&i, end)
        guard i == end, let id, sawY, sawV, !ys.isEmpty, ys.count == vs.count, reader.begin(id: id, key: idKey) else { return false }
        for s in ys.indices {
            let y = ys[s], v = vs[s]
            guard reader.acceptable(y, v) else { return false }
            reader.yi.append(y)
            reader.vi.append(v)
        }
        return true
    }

    /// `[n, n, ...]` of numbers in JSON's grammar.
    private func array(_ i: inout Int, _ end: Int, into values: inout [Double]) -> Bool {
        guard i < end, bytes[i] == UInt8(ascii: "[") else { return false }
        i += 1
        skipSpace(&i, end)
        guard i < end, bytes[i] != UInt8(ascii: "]") else { return false }
        while true {
            skipSpace(&i, end)
            let token = numberToken(&i, end)
            guard let x = DecimalText.parse(bytes, token, json: true) else { return false }
            values.append(x)
            skipSpace(&i, end)
            guard i < end else { return false }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "]") else { return false }
            i += 1
            return true
        }
    }
}
