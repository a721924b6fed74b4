// Reading a JSON array of flat objects into a DataTable.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One JSON cell: numbers and strings become text cells; `null` is missing.
private enum JSONCell: Decodable {
    case text(String)
    case missing
    case unsupported(String)

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .missing; return }
        if let d = try? c.decode(Double.self) {
            self = .text(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)")
            return
        }
        if let s = try? c.decode(String.self) { self = .text(s); return }
        if let b = try? c.decode(Bool.self) { self = .unsupported("the boolean \(b)"); return }
        self = .unsupported("a nested array or object")
    }
}

extension DataTable {
    /// Reads a JSON array of objects, one object per study; keys are column names.
    /// Columns are ordered by first appearance; a key absent from a row is a missing value.
    public static func readJSON(_ text: String, source: String?) throws(MetaPoolError) -> DataTable {
        let objects: [[String: JSONCell]]
        do {
            objects = try JSONDecoder().decode([[String: JSONCell]].self, from: Data(text.utf8))
        } catch let DecodingError.typeMismatch(_, context) {
            throw jsonError(context, source: source, expected: "an array of objects, one per study, e.g. [{\"study\": \"A\", \"events\": 3, \"total\": 20}]")
        } catch let DecodingError.dataCorrupted(context) {
            throw jsonError(context, source: source, expected: "valid JSON")
        } catch {
            throw MetaPoolError(.malformedInput, "the JSON could not be read: \(error)", at: InputLocation(file: source))
        }
        if objects.isEmpty {
            throw MetaPoolError(.emptyInput, "the JSON array has no objects", at: InputLocation(file: source))
        }
        // Key order inside a JSON object is not preserved by the decoder; sort for a stable order.
        var columns: [String] = []
        var seen = Set<String>()
        for object in objects {
            for key in object.keys.sorted() where !seen.contains(key) {
                seen.insert(key)
                columns.append(key)
            }
        }
        if let s = columns.firstIndex(where: { $0.lowercased() == "study" }) {
            columns.insert(columns.remove(at: s), at: 0)
        }
        try validateHeader(columns, source: source, line: nil)
        var rows: [[String?]] = []
        rows.reserveCapacity(objects.count)
        for (r, object) in objects.enumerated() {
            var row: [String?] = []
            for column in columns {
                switch object[column] {
                case .text(let t)?: row.append(t)
                case .missing?, nil: row.append(nil)
                case .unsupported(let what)?:
                    throw MetaPoolError(.invalidValue, "\(what) is not a number or text", at: InputLocation(file: source, row: r + 1, column: column))
                }
            }
            rows.append(row)
        }
        return DataTable(source: source, columns: columns, rows: rows)
    }

    private static func jsonError(_ context: DecodingError.Context, source: String?, expected: String) -> MetaPoolError {
        let index = context.codingPath.first?.intValue
        var reason = "expected \(expected)"
        if let underlying = context.underlyingError { reason = "the JSON is malformed (\(underlying)); " + reason }
        return MetaPoolError(.malformedInput, reason, at: InputLocation(file: source, row: index.map { $0 + 1 }))
    }
}
