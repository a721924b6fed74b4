// The batch's fast reader fed from the file in pieces: each piece (whole lines) is checked as
// UTF-8 and parsed while the next is read, so the file is never held whole and reading overlaps
// parsing. Anything the fast reader does not take sends the caller to the whole-file path
// (``BatchAnalysis/fastAnalyses(csv:column:delimiter:measure:options:tasks:)`` and then the
// general reader), which reads the file again and gives the same analyses or the error.

import SystemPackage

extension BatchAnalysis {
    /// The bytes ``streamedAnalyses(path:jsonLines:column:delimiter:measure:options:tasks:pieceSize:)`` reads per piece.
    public static let streamPieceSize = 1 << 20

    /// The analyses of a batch file (CSV, or JSON Lines when `jsonLines` or its first non-space byte is `{`)
    /// read piece by piece, or `nil` when the caller must read it whole: standard input (`-`), a
    /// file that cannot be opened or read, and everything the fast reader hands over (a quote, a
    /// bare CR, a bad value, an analysis whose rows are not together, text that is not UTF-8; see
    /// ``fastAnalyses(csv:column:delimiter:measure:options:)``).
    ///
    /// With `tasks` > 1, pieces are checked and parsed on child tasks while the next is read; at
    /// most `tasks + 1` pieces are held at once.
    public static func streamedAnalyses(path: String, jsonLines byName: Bool, column: String = "analysis",
                                        delimiter: CSVDelimiter? = nil, measure: EffectMeasure? = nil,
                                        options: EffectSizeOptions = EffectSizeOptions(), tasks: Int = 1,
                                        pieceSize: Int = streamPieceSize) async -> [Analysis]? {
        guard path != "-", options.isDefault,
              let fd = try? FileDescriptor.open(FilePath(path), .readOnly, retryOnInterrupt: true) else { return nil }
        defer { try? fd.close() }
        let file = PieceReader(fd: fd, size: max(pieceSize, 1))
        // The first piece: the encoding test looks at its first 64 bytes, the JSON Lines guess at
        // up to 4 KiB (a wrong guess only hands the file over), and it must hold the CSV header.
        guard var first = file.read(after: [], atLeast: max(pieceSize, 128)) else { return nil }
        let bom = first.bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        guard DataTable.wideEncoding(first.bytes[bom...]) == nil,
              let lead = first.bytes[bom...].first(where: { !CSVScanner.isSpace($0) }), lead != UInt8(ascii: "[") else { return nil }
        let parser: PieceParser
        if byName || lead == UInt8(ascii: "{") {
            guard delimiter == nil, let p = PieceParser(jsonLinesHead: first.bytes, column: column, measure: measure, options: options) else { return nil }
            parser = p
        } else {
            guard let layout = CSVBatchLayout(first.bytes, column: column, delimiter: delimiter, measure: measure, options: options)
            else { return nil }
            parser = .csv(layout)
        }
        let bodyStart: Int
        switch parser {
        case .csv(let layout):
            bodyStart = layout.body.lowerBound
            // The header line must be whole in the first piece.
            guard first.end || (bodyStart > 0 && first.bytes[bodyStart - 1] == UInt8(ascii: "\n")) else { return nil }
        case .jsonLines:
            bodyStart = bom
        }
        first.start = bodyStart

        var merged = GroupedStudies(measure: parser.measure)
        let continuing = parser.continuing
        if tasks <= 1 {
            var piece = first
            while true {
                guard let studies = parser.parse(piece), merged.append(studies, continuing: continuing) else { return nil }
                if piece.end { break }
                guard let next = file.read(after: piece.rest, atLeast: pieceSize) else { return nil }
                piece = next
            }
        } else {
            // Pieces parsed on child tasks, merged in file order as they come back.
            let ok = await withTaskGroup(of: (Int, GroupedStudies?).self) { group -> Bool in
                var waiting: [Int: GroupedStudies] = [:]
                var nextToMerge = 0, inFlight = 0, count = 0
                var piece: Piece? = first
                func take(_ result: (Int, GroupedStudies?)) -> Bool {
                    inFlight -= 1
                    guard let studies = result.1 else { return false }
                    waiting[result.0] = studies
                    while let ready = waiting.removeValue(forKey: nextToMerge) {
                        guard merged.append(ready, continuing: continuing) else { return false }
                        nextToMerge += 1
                    }
                    return true
                }
                while let current = piece {
                    let n = count
                    group.addTask { (n, parser.parse(current)) }
                    count += 1
                    inFlight += 1
                    if current.end { piece = nil } else {
                        guard let next = file.read(after: current.rest, atLeast: pieceSize) else { group.cancelAll(); return false }
                        piece = next
                    }
                    while inFlight > tasks, let result = await group.next() {
                        guard take(result) else { group.cancelAll(); return false }
                    }
                }
                while let result = await group.next() {
                    guard take(result) else { group.cancelAll(); return false }
                }
                return nextToMerge == count
            }
            guard ok else { return nil }
        }
        guard let analyses = merged.finish(), !analyses.isEmpty else { return nil }
        return analyses
    }
}

/// A stretch of the file: the bytes read, of which `start..<cut` are whole lines to parse now and
/// `cut...` the start of a line whose end has not been read.
struct Piece: Sendable {
    var bytes: [UInt8]
    var start: Int
    /// After the last LF; the count at the end of the file.
    let cut: Int
    /// Whether the file ends with these bytes.
    let end: Bool

    var rest: ArraySlice<UInt8> { bytes[cut...] }
}

/// Reads a file descriptor piece by piece.
struct PieceReader {
    let fd: FileDescriptor
    let size: Int

    /// `carry` (the unfinished line of the piece before) and at least `atLeast` more bytes (fewer
    /// at the end of the file), then on to the end of a line; `nil` when reading fails or no line
    /// ends within 1 MiB more (a device such as /dev/zero: the whole-file reader refuses it at
    /// its first chunk).
    func read(after carry: ArraySlice<UInt8>, atLeast: Int) -> Piece? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(carry.count + atLeast)
        bytes += carry
        var end = false
        do {
            while true {
                if bytes.count - carry.count >= atLeast, let last = bytes.lastIndex(of: UInt8(ascii: "\n")), last >= carry.count {
                    return Piece(bytes: bytes, start: 0, cut: last + 1, end: false)
                }
                guard bytes.count - carry.count < atLeast + (1 << 20) else { return nil }
                let want = max(size, 1 << 12)
                let old = bytes.count
                bytes.append(contentsOf: repeatElement(0, count: want))
                let n = try bytes.withUnsafeMutableBytes { raw in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[old...]), retryOnInterrupt: true)
                }
                bytes.removeLast(want - n)
                if n == 0 { end = true; break }
            }
        } catch {
            return nil
        }
        return Piece(bytes: bytes, start: 0, cut: bytes.count, end: end)
    }
}

/// How a piece's lines are read: a CSV batch's rows, or JSON Lines objects.
enum PieceParser: Sendable {
    case csv(CSVBatchLayout)
    /// The identifier key (trimmed, lower case), the two arrays' keys and the measure.
    case jsonLines(wanted: [UInt8], pair: ([UInt8], [UInt8]), measure: EffectMeasure)

    /// The JSON Lines parser for a batch whose head (the first bytes) is given, or `nil` when the fast reader does not take it
    /// (see ``BatchAnalysis/fastAnalyses(jsonLines:column:measure:options:)``).
    init?(jsonLinesHead head: [UInt8], column: String, measure: EffectMeasure?, options: EffectSizeOptions) {
        guard let setup = BatchAnalysis.jsonLinesSetup(head: head, column: column, measure: measure, options: options) else { return nil }
        self = .jsonLines(wanted: setup.wanted, pair: setup.pair, measure: setup.measure)
    }

    var measure: EffectMeasure {
        switch self {
        case .csv(let layout): layout.measure
        case .jsonLines(_, _, let measure): measure
        }
    }

    /// Whether an analysis may go on from one piece to the next (CSV rows; a JSON Lines line is a whole analysis).
    var continuing: Bool {
        if case .csv = self { true } else { false }
    }

    /// The studies in the piece's whole lines, or `nil` when the fast reader hands the file over
    /// (not UTF-8 text, a quote or a bare CR, anything ``CSVBatchLayout/readPlainLines(_:into:)``
    /// or ``JSONLineScanner`` refuses).
    func parse(_ piece: Piece) -> GroupedStudies? {
        var validator = TextValidator(source: nil)
        guard (try? validator.check(piece.bytes, final: true, end: piece.cut)) != nil else { return nil }
        var studies = GroupedStudies(measure: measure)
        let ok = piece.bytes.withUnsafeBufferPointer { all -> Bool in
            let lines = UnsafeBufferPointer(rebasing: all[piece.start..<piece.cut])
            switch self {
            case .csv(let layout):
                if case .done = layout.readPlainLines(lines, into: &studies) { return true }
                return false
            case .jsonLines(let wanted, let pair, _):
                var scanner = JSONLineScanner(bytes: lines, position: 0, wanted: wanted, pair: pair)
                while let ok = scanner.next(into: &studies) {
                    guard ok else { return false }
                }
                return true
            }
        }
        return ok ? studies : nil
    }
}

extension GroupedStudies {
    /// Appends the studies read from the next piece of the file; `continuing` when the first
    /// analysis there may be the last one here going on (CSV rows). `false` when an analysis
    /// comes back after another (the general reader merges it).
    mutating func append(_ other: GroupedStudies, continuing: Bool) -> Bool {
        guard !other.groups.isEmpty else { return true }  // a piece of blank lines
        var from = 0
        var skip: UInt64?
        if continuing, !groups.isEmpty, other.firstKey == currentKey {
            from = 1
            skip = Self.hash(currentKey)
        }
        for h in other.seen where h != skip {
            guard seen.insert(h).inserted else { return false }
        }
        if groups.isEmpty { firstKey = other.firstKey }
        let offset = yi.count
        yi += other.yi
        vi += other.vi
        for g in other.groups[from...] { groups.append((g.id, g.start + offset)) }
        currentKey = other.currentKey
        return true
    }
}
