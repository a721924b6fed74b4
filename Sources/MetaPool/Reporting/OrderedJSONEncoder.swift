// A JSON encoder that keeps keys in the order a type encodes them, so output reads in the documented order (JSONOutput.md).

/// A JSON value tree with ordered object keys.
public indirect enum JSONValue: Sendable, Equatable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number; non-finite values serialise as `null`.
    case number(Double)
    /// An integer, written without a decimal point.
    case integer(Int)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object whose members keep their order.
    case object([(String, JSONValue)])

    /// Structural equality; objects are equal only with the same members in the same order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Serialises the value; `indent` spaces per level, or compact when 0 (or negative). As
    /// JavaScript's `JSON.stringify`, at most 10 spaces per level: a negative indent made a
    /// negative repeat count and a huge one overflowed `indent * depth`, both traps.
    /// Non-finite numbers become `null` (JSON has no NaN or infinity).
    public func serialized(indent: Int = 2) -> String {
        var out = ""
        write(into: &out, indent: min(max(indent, 0), 10), depth: 0, streaming: false) { _ in }
        return out
    }

    /// Serialises the value as ``serialized(indent:)`` does, handing the text to `chunk` in pieces
    /// of about 64 KiB instead of building it whole: a summary of 10⁶ studies is half a gigabyte
    /// of text, which need never be in memory at once.
    public func serialize(indent: Int = 2, chunk: (String) -> Void) {
        var out = ""
        out.reserveCapacity(Self.chunkSize + 4096)
        write(into: &out, indent: min(max(indent, 0), 10), depth: 0, streaming: true, flush: chunk)
        if !out.isEmpty { chunk(out) }
    }

    static let chunkSize = 1 << 16

    /// Appends the UTF-8 text of the value to `out` as ``serialized(indent:)`` writes it nested
    /// `depth` levels deep (the text after a member's key or an array's indentation): for writers
    /// that produce the members of a large object one at a time, with the same text as
    /// serialising it whole. Bytes, not a String: appending to a String one piece at a time was
    /// most of the time of `pool --format json` on 10⁶ studies.
    public func serialize(into out: inout [UInt8], indent: Int = 2, depth: Int) {
        writeBytes(into: &out, indent: min(max(indent, 0), 10), depth: max(depth, 0))
    }

    /// The text of ``write(into:indent:depth:streaming:flush:)``, as bytes.
    private func writeBytes(into out: inout [UInt8], indent: Int, depth: Int) {
        func pad(_ d: Int) { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * d)) }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .number(let d): out.append(contentsOf: (d.isFinite ? Self.format(d) : "null").utf8)
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            if indent > 0 { out.append(0x0A) }
            for (n, item) in items.enumerated() {
                pad(depth + 1)
                item.writeBytes(into: &out, indent: indent, depth: depth + 1)
                if n + 1 < items.count { out.append(UInt8(ascii: ",")) }
                if indent > 0 { out.append(0x0A) }
            }
            pad(depth)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            if indent > 0 { out.append(0x0A) }
            for (n, (key, value)) in members.enumerated() {
                pad(depth + 1)
                Self.quote(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent > 0 { out.append(UInt8(ascii: " ")) }
                value.writeBytes(into: &out, indent: indent, depth: depth + 1)
                if n + 1 < members.count { out.append(UInt8(ascii: ",")) }
                if indent > 0 { out.append(0x0A) }
            }
            pad(depth)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// ``quote(_:into:)`` as bytes: the same escapes, byte by byte (every byte of a multi-byte
    /// UTF-8 sequence is 0x80 or above, so only ASCII scalars are escaped, as there).
    static func quote(_ s: String, into out: inout [UInt8]) {
        // Most text needs no escape: copied whole.
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if plain == true { return }
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(b); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0x0F))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        func hexDigit(_ d: UInt8) -> UInt8 { d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10 }
    }

    private func write(into out: inout String, indent: Int, depth: Int, streaming: Bool, flush: (String) -> Void) {
        let newline = indent > 0 ? "\n" : ""
        let pad = { (d: Int) in String(repeating: " ", count: indent * d) }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += d.isFinite ? Self.format(d) : "null"
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + newline
            for (n, item) in items.enumerated() {
                out += pad(depth + 1)
                item.write(into: &out, indent: indent, depth: depth + 1, streaming: streaming, flush: flush)
                out += (n + 1 < items.count ? "," : "") + newline
                if streaming, out.utf8.count >= Self.chunkSize { flush(out); out.removeAll(keepingCapacity: true) }
            }
            out += pad(depth) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{" + newline
            for (n, (key, value)) in members.enumerated() {
                out += pad(depth + 1)
                Self.quote(key, into: &out)
                out += indent > 0 ? ": " : ":"
                value.write(into: &out, indent: indent, depth: depth + 1, streaming: streaming, flush: flush)
                out += (n + 1 < members.count ? "," : "") + newline
                if streaming, out.utf8.count >= Self.chunkSize { flush(out); out.removeAll(keepingCapacity: true) }
            }
            out += pad(depth) + "}"
        }
    }

    /// Shortest representation that round-trips (Swift's `description`), integers without `.0`.
    static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return d.description
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// Encodes any `Encodable` into a ``JSONValue`` with keys in encoding order.
public enum OrderedJSONEncoder {
    /// Encodes `value` into a ``JSONValue``, object keys in the order the type encodes them.
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let encoder = TreeEncoder(path: [])
        try value.encode(to: encoder)
        return encoder.storage.value
    }
}

/// Reference-typed storage so nested containers write into their parent.
private final class Node {
    enum Kind { case unset, single(JSONValue), keyed([(String, Node)]), unkeyed([Node]) }
    var kind: Kind = .unset

    var value: JSONValue {
        switch kind {
        case .unset: .null
        case .single(let v): v
        case .keyed(let members): .object(members.map { ($0.0, $0.1.value) })
        case .unkeyed(let items): .array(items.map(\.value))
        }
    }
}

private struct TreeEncoder: Encoder {
    let storage = Node()
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(path: [any CodingKey]) { codingPath = path }
    init(node: Node, path: [any CodingKey]) { self.codingPath = path; self.nodeOverride = node }
    private var nodeOverride: Node?
    private var node: Node { nodeOverride ?? storage }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.kind {} else { node.kind = .keyed([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = node.kind {} else { node.kind = .unkeyed([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

private func primitive<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Node {
    let child = Node()
    switch value {
    // A non-finite number is null in the tree as in the text (JSON has no NaN or infinity).
    case let v as Double: child.kind = .single(v.isFinite ? .number(v) : .null)
    case let v as Float: child.kind = .single(.number(Double(v)))
    case let v as Int: child.kind = .single(.integer(v))
    case let v as String: child.kind = .single(.string(v))
    case let v as Bool: child.kind = .single(.bool(v))
    default: try value.encode(to: TreeEncoder(node: child, path: path))
    }
    return child
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    var codingPath: [any CodingKey]

    private func append(_ key: Key, _ child: Node) {
        guard case .keyed(var members) = node.kind else { return }
        node.kind = .unset  // release the enum's copy so that the append is in place, not O(count)
        members.append((key.stringValue, child))
        node.kind = .keyed(members)
    }

    mutating func encodeNil(forKey key: Key) throws {
        let n = Node(); n.kind = .single(.null); append(key, n)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        append(key, try primitive(value, path: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node(); child.kind = .keyed([]); append(key, child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node(); child.kind = .unkeyed([]); append(key, child)
        return UnkeyedContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: node, path: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = Node(); append(key, child)
        return TreeEncoder(node: child, path: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue ?? 0) }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey]
    var count: Int {
        if case .unkeyed(let items) = node.kind { return items.count }
        return 0
    }

    private func append(_ child: Node) {
        guard case .unkeyed(var items) = node.kind else { return }
        node.kind = .unset  // release the enum's copy so that the append is in place, not O(count)
        items.append(child)
        node.kind = .unkeyed(items)
    }

    mutating func encodeNil() throws { let n = Node(); n.kind = .single(.null); append(n) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try primitive(value, path: codingPath + [IndexKey(count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Node(); child.kind = .keyed([]); append(child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Node(); child.kind = .unkeyed([]); append(child)
        return UnkeyedContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let child = Node(); append(child)
        return TreeEncoder(node: child, path: codingPath)
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.kind = .single(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = try primitive(value, path: codingPath)
        node.kind = child.kind
    }
}
