// Text from the input (study labels, column names and values, file names) made safe for each
// output: a terminal, XML (SVG, the HTML report, JUnit) and a spreadsheet opening CSV.

/// The one place where text read from the user's files is escaped for output.
///
/// - ``terminal(_:)`` for everything printed as text (tables, notes, warnings, error messages,
///   `check`'s lines): a label cannot clear the screen, recolour the terminal, set its title,
///   reorder what follows it (bidi overrides) or forge a line of output.
/// - ``xml(_:attribute:)`` for SVG, the HTML report and JUnit XML: the result is well-formed
///   XML 1.0 character data or attribute text whatever the label holds.
/// - ``csvField(_:)`` for text cells of CSV output: RFC 4180 quoting and a guard against
///   spreadsheet formula injection.
public enum SafeText {
    /// Whether `scalar` must not reach a terminal as is: C0 controls (U+0000–U+001F), DEL, C1
    /// controls (U+0080–U+009F, which include the 8-bit CSI and OSC), the bidirectional
    /// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the "Trojan Source"
    /// characters, CVE-2021-42574), the implicit marks U+200E, U+200F and U+061C, the line and
    /// paragraph separators U+2028 and U+2029, and the noncharacters U+FFFE and U+FFFF (invisible,
    /// and not allowed in XML).
    public static func isTerminalUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029,
             0xFFFE, 0xFFFF: true
        default: false
        }
    }

    /// Whether every byte of `text` is printable ASCII (U+0020–U+007E), which ``terminal(_:)``
    /// leaves as is and whose characters are its bytes (a table's widths count them).
    public static func isPrintableASCII(_ text: String) -> Bool {
        func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            for b in bytes where b < 0x20 || b >= 0x7F { return false }
            return true
        }
        if let answer = text.utf8.withContiguousStorageIfAvailable(check) { return answer }
        return text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// `text` with every terminal-unsafe character (``isTerminalUnsafe(_:)``) written as a
    /// Swift-style escape: `\n`, `\r`, `\t`, and `\u{1B}` for the others. Other text, including
    /// backslashes and non-ASCII letters, is unchanged.
    public static func terminal(_ text: String) -> String {
        // Printable ASCII (the usual label or number) is safe as is, checked byte by byte.
        if isPrintableASCII(text) { return text }
        guard text.unicodeScalars.contains(where: isTerminalUnsafe) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard isTerminalUnsafe(scalar) else { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// Whether `scalar` may appear in the XML MetaPool writes: the `Char` production of XML 1.0
    /// §2.2 (tab, line feed, carriage return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 and above;
    /// not even a character reference may name the others, such as most C0 controls, U+FFFE and
    /// U+FFFF) without DEL and the C1 controls U+0080–U+009F, which §2.2 discourages, HTML5
    /// reports as parse errors and a terminal showing a CI log would obey.
    public static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...: true
        default: false
        }
    }

    /// `text` as XML 1.0 character data (`attribute: false`) or an attribute value in double or
    /// single quotes (`attribute: true`): `&`, `<` and `>` as entities, in attributes also the
    /// quotes and the tab, line feed and carriage return (which a parser would otherwise normalise
    /// to spaces, XML 1.0 §3.3.3); a carriage return always as `&#13;` (a parser turns a literal
    /// one into a line feed, §2.11); characters XML cannot hold (``isXMLCharacter(_:)``) as
    /// U+FFFD; and the valid but invisible direction and line controls among
    /// ``isTerminalUnsafe(_:)`` (bidi overrides, which would reorder a label as drawn, U+2028/9)
    /// as `\u{202E}`-style text, as in every text output. HTML5 parses the result the same way,
    /// so the report uses it too.
    public static func xml(_ text: String, attribute: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&#39;"
            case "\t" where attribute: out += "&#9;"
            case "\n" where attribute: out += "&#10;"
            case "\r": out += "&#13;"
            default:
                if !isXMLCharacter(scalar) {
                    out.unicodeScalars.append("\u{FFFD}")
                } else if isTerminalUnsafe(scalar) && scalar != "\t" && scalar != "\n" {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The characters that make a spreadsheet read a cell as a formula when they start it
    /// (OWASP, "CSV Injection"): `=`, `+`, `-`, `@`, tab and carriage return.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// A text cell of CSV output: a cell starting with a formula character (`=`, `+`, `-`, `@`,
    /// tab, carriage return) gets a leading `'`, as OWASP's "CSV Injection" advises, so that a
    /// spreadsheet shows it as text instead of running it; then RFC 4180 quoting (§2.6–2.7) when
    /// the cell holds a comma, a quote, a line feed or a carriage return. Line breaks and tabs are
    /// kept (quoted); the other terminal-unsafe characters (``isTerminalUnsafe(_:)``: escape
    /// sequences, bidi overrides) are written as `\u{1B}`-style escapes, since CSV output is often
    /// read in a terminal. Numeric cells are not passed here: `-0.5` stays a number.
    public static func csvField(_ text: String) -> String {
        var field = text
        if field.unicodeScalars.contains(where: { isTerminalUnsafe($0) && !["\n", "\r", "\t"].contains($0) }) {
            var escaped = ""
            for scalar in field.unicodeScalars {
                if isTerminalUnsafe(scalar) && !["\n", "\r", "\t"].contains(scalar) {
                    escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
            field = escaped
        }
        if let first = field.unicodeScalars.first, formulaStarts.contains(first) { field = "'" + field }
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        var quoted = "\""
        for scalar in field.unicodeScalars {
            if scalar == "\"" { quoted += "\"" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}
