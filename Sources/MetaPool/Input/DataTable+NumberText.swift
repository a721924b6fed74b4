// What a cell that is almost a number probably meant: a thousands separator or a decimal comma.

extension DataTable {
    /// Why `text` (spaces trimmed) is not read as a number when a comma is the reason, or `nil`:
    ///
    /// - digit groups of three after the first (`12,345,678`, `1,234.5`, `1,234`): a thousands
    ///   separator. A single group (`1,234`) could also be a decimal comma; R's `read.csv` reads
    ///   neither as a number, so the message names both readings;
    /// - otherwise a number with a comma for its point (`0,42`, `12,5`): a decimal comma.
    static func commaHint(_ text: String) -> String? {
        let t = text.trimmingSpaces()
        guard t.contains(",") else { return nil }
        let shown = t.count > 40 ? String(t.prefix(40)) + "…" : t
        var body = Substring(t)
        var sign = ""
        if let first = body.first, first == "-" || first == "+" { sign = String(first); body = body.dropFirst() }
        let (integer, fraction) = body.firstIndex(of: ".").map { (body[..<$0], String(body[$0...])) } ?? (body, "")
        let groups = integer.split(separator: ",", omittingEmptySubsequences: false)
        let isDigits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        let fractionOK = fraction.isEmpty || (fraction.count > 1 && fraction.dropFirst().allSatisfy { $0.isASCII && $0.isNumber })
        if groups.count > 1, fractionOK, let lead = groups.first, isDigits(lead), lead.count <= 3, lead.first != "0",
           groups.dropFirst().allSatisfy({ $0.count == 3 && isDigits($0) }) {
            let plain = sign + groups.joined() + fraction
            if groups.count == 2 && fraction.isEmpty {
                let decimal = sign + groups.joined(separator: ".")
                return "\"\(shown)\" looks like a number with a thousands separator; write \(plain) (or \(decimal) if the comma is a decimal comma: R's read.csv reads neither as a number)"
            }
            return "\"\(shown)\" looks like a number with a thousands separator; write \(plain)"
        }
        let dotted = String(t.map { $0 == "," ? "." : $0 })
        if t.filter({ $0 == "," }).count == 1, !t.contains("."), Double(dotted) != nil, !dotted.lowercased().contains("n") {
            return "\"\(shown)\" uses a comma as decimal separator; write it with a dot (\(dotted)), or save the file semicolon-separated, where decimal commas are read as R's read.csv2 reads them"
        }
        return nil
    }
}
