// `pool --format json` written as it is made: the object's members in order, its arrays of one
// entry per study made one entry at a time, so that 10⁶ studies are never a tree of JSON values.

import MetaPool

/// A JSON object some of whose arrays are made entry by entry while they are written. Its text
/// (``write(into:)``) is that of ``tree`` serialised with ``JSONValue/serialized(indent:)``
/// (two spaces), byte for byte; ``tree`` is the whole value, for `check` and small outputs.
struct JSONDocument {
    enum Member {
        /// A value held whole.
        case value(JSONValue)
        /// An array of `count` entries, entry `i` made by `entry(i)` when it is written, or by
        /// `write(i, depth, &bytes)` straight as text (the text of `entry(i)` at that depth).
        case entries(count: Int, entry: (Int) -> JSONValue, write: ((Int, Int, inout [UInt8]) -> Void)? = nil)
        /// An object with members of either kind.
        case object([(String, Member)])
    }

    var members: [(String, Member)]

    init(_ members: [(String, Member)]) { self.members = members }

    /// A document of `value`'s members, every one held whole.
    init(_ value: JSONValue) {
        if case .object(let members) = value {
            self.members = members.map { ($0.0, .value($0.1)) }
        } else {
            self.members = []
            whole = value
        }
    }

    /// A value that is not an object (written as it is).
    private var whole: JSONValue?

    /// The whole value.
    var tree: JSONValue {
        if let whole { return whole }
        func value(_ member: Member) -> JSONValue {
            switch member {
            case .value(let v): v
            case .entries(let count, let entry, _): .array((0..<count).map(entry))
            case .object(let members): .object(members.map { ($0.0, value($0.1)) })
            }
        }
        return .object(members.map { ($0.0, value($0.1)) })
    }

    /// Writes the text of ``tree`` (indent 2, no final newline) into `sink`, entry by entry.
    func write(into sink: inout TextSink) {
        if let whole {
            sink.withBuffer { whole.serialize(into: &$0, indent: Self.indent, depth: 0) }
            return
        }
        Self.write(members, depth: 0, into: &sink)
    }

    static let indent = 2

    /// One object written member by member, as ``JSONValue/serialize(into:indent:depth:)``
    /// writes `.object` of the same members (indent 2), without the array of members.
    struct ObjectWriter {
        let depth: Int
        private var count = 0

        init(depth: Int) { self.depth = depth }

        /// Appends member `key` (a name of this file's writers: written between quotes as it is,
        /// for it needs no escape) with `value`.
        mutating func member(_ key: StaticString, _ value: JSONValue, into out: inout [UInt8]) {
            if count > 0 { out.append(UInt8(ascii: ",")) } else { out.append(UInt8(ascii: "{")) }
            out.append(0x0A)
            for _ in 0..<JSONDocument.indent * (depth + 1) { out.append(UInt8(ascii: " ")) }
            out.append(UInt8(ascii: "\""))
            key.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            value.serialize(into: &out, indent: JSONDocument.indent, depth: depth + 1)
            count += 1
        }

        func end(into out: inout [UInt8]) {
            if count == 0 { out.append(contentsOf: "{}".utf8); return }
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: JSONDocument.indent * depth))
            out.append(UInt8(ascii: "}"))
        }
    }

    /// As JSONValue's writer: "{", a line per member (indent, quoted key, ": ", value, "," but
    /// after the last), "}" at the object's own indentation; "{}" and "[]" when empty.
    private static func write(_ members: [(String, Member)], depth: Int, into sink: inout TextSink) {
        func pad(_ d: Int) -> String { String(repeating: " ", count: indent * d) }
        if members.isEmpty { sink.write("{}"); return }
        sink.write("{\n")
        for (n, (key, member)) in members.enumerated() {
            sink.write(pad(depth + 1))
            sink.withBuffer { JSONValue.string(key).serialize(into: &$0, indent: indent, depth: 0) }
            sink.write(": ")
            switch member {
            case .value(let v):
                sink.withBuffer { v.serialize(into: &$0, indent: indent, depth: depth + 1) }
            case .object(let inner):
                write(inner, depth: depth + 1, into: &sink)
            case .entries(let count, let entry, let direct):
                if count == 0 { sink.write("[]"); break }
                sink.write("[\n")
                let entryPad = pad(depth + 2)
                for i in 0..<count {
                    sink.withBuffer { bytes in
                        bytes.append(contentsOf: entryPad.utf8)
                        if let direct {
                            direct(i, depth + 2, &bytes)
                        } else {
                            entry(i).serialize(into: &bytes, indent: indent, depth: depth + 2)
                        }
                        if i + 1 < count { bytes.append(UInt8(ascii: ",")) }
                        bytes.append(0x0A)
                    }
                }
                sink.write(pad(depth + 1) + "]")
            }
            sink.write(n + 1 < members.count ? ",\n" : "\n")
        }
        sink.write(pad(depth) + "}")
    }
}
