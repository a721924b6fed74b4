// The batch's results written as text as they are produced: one JSON object or CSV row per
// analysis, appended to a byte buffer, with no JSONValue tree per analysis.

extension BatchAnalysis {
    /// The header of the CSV that ``appendCSV(_:for:to:)`` writes rows of.
    public static let csvHeader = "analysis,k,estimate,se,ci_lower,ci_upper,p_value,tau2,i2,q,q_p_value,pi_lower,pi_upper,error\n"

    /// Appends the JSON object of ``summary(of:for:)`` (compact, as `serialized(indent: 0)`) and a
    /// newline: the same text, byte for byte, written directly.
    public static func appendJSON(_ outcome: Outcome, for analysis: Analysis, to out: inout [UInt8]) {
        switch outcome {
        case .failure(let error):
            out.append(contentsOf: #"{"analysis":"#.utf8)
            appendQuoted(analysis.id, to: &out)
            out.append(contentsOf: #","k":"#.utf8)
            out.append(contentsOf: String(analysis.yi.count).utf8)
            out.append(contentsOf: #","error":"#.utf8)
            appendQuoted(error.reason, to: &out)
            out.append(contentsOf: "}\n".utf8)
        case .success(let fit):
            fit.appendJSON(to: &out)
        }
    }

    /// Appends the CSV row of `outcome` under ``csvHeader``: numbers in Swift's shortest form, an
    /// analysis that could not be fitted with its k and its error sentence (`sentence`, e.g. the
    /// command line's wording of the error).
    public static func appendCSV(_ outcome: Outcome, for analysis: Analysis, errorSentence sentence: (MetaPoolError) -> String,
                                 to out: inout [UInt8]) {
        switch outcome {
        case .success(let r):
            var o = ByteSink(bytes: [])
            swap(&o.bytes, &out)
            defer { swap(&o.bytes, &out) }
            appendCSVCell(r.id, to: &o.bytes)
            o.bytes.append(UInt8(ascii: ","))
            o.integer(r.k)
            func cell(_ x: Double?) {
                o.bytes.append(UInt8(ascii: ","))
                x?.write(to: &o)  // Swift's shortest round-trip form, as "\(x)"
            }
            cell(r.estimate); cell(r.standardError); cell(r.confidenceInterval.lower); cell(r.confidenceInterval.upper)
            cell(r.pValue); cell(r.tauSquared); cell(r.iSquared); cell(r.q); cell(r.qPValue)
            cell(r.predictionInterval?.lower); cell(r.predictionInterval?.upper)
            o.append(",\n")
        case .failure(let error):
            appendCSVCell(analysis.id, to: &out)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: String(analysis.yi.count).utf8)
            out.append(contentsOf: repeatElement(UInt8(ascii: ","), count: 12))
            appendCSVCell(sentence(error), to: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// A CSV cell as ``SafeText/csvField(_:)`` writes it (quoted when needed, formula starts defused).
    static func appendCSVCell(_ s: String, to out: inout [UInt8]) {
        var s = s
        // Plain ASCII text that needs no quoting or defusing is copied as it is.
        let plain = s.withUTF8 { text -> Bool in
            guard let first = text.first, first != UInt8(ascii: "="), first != UInt8(ascii: "+"), first != UInt8(ascii: "-"),
                  first != UInt8(ascii: "@"), !text.contains(where: { $0 < 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") })
            else { return false }
            out.append(contentsOf: text)
            return true
        }
        if !plain { out.append(contentsOf: SafeText.csvField(s).utf8) }
    }

    /// A JSON string as ``JSONValue`` writes it.
    static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        var text = ""
        JSONValue.quote(s, into: &text)
        out.append(contentsOf: text.utf8)
    }
}

/// Bytes that numbers are written into without a String in between: `Double.write(to:)` hands
/// its digits (Swift's shortest round-trip form, as `description`) to `_writeASCII`.
struct ByteSink: TextOutputStream {
    var bytes: [UInt8]

    mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }

    mutating func append(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// A number as ``JSONValue/format(_:)`` writes it (`null` when not finite).
    mutating func number(_ x: Double) {
        if !x.isFinite {
            append("null")
        } else if x == x.rounded(), abs(x) < 1e15 {
            integer(Int64(x))
        } else {
            x.write(to: &self)
        }
    }

    /// An integer in decimal digits.
    mutating func integer<I: BinaryInteger>(_ i: I) {
        if i < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        var digits: (UInt64, Int) = (0, 0)  // reversed digits, count
        repeat {
            digits.0 = digits.0 << 4 | UInt64(m % 10)
            digits.1 += 1
            m /= 10
        } while m > 0 && digits.1 < 16
        if m > 0 { bytes.append(contentsOf: String(i.magnitude / 10_000_000_000_000_000).utf8) }
        for _ in 0..<digits.1 {
            bytes.append(UInt8(ascii: "0") + UInt8(digits.0 & 0xF))
            digits.0 >>= 4
        }
    }

    /// A JSON string as ``JSONValue`` quotes it; text with no quote, backslash or control
    /// character is copied as it is.
    mutating func quoted(_ s: String) {
        var s = s
        let plain = s.withUTF8 { text -> Bool in
            guard !text.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: text)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if !plain { BatchAnalysis.appendQuoted(s, to: &bytes) }
    }

    /// `,"name":`
    mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        append(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}

extension BatchAnalysis.Fit {
    /// The compact JSON of ``summary()`` and a newline, appended to `out`.
    func appendJSON(to out: inout [UInt8]) {
        var o = ByteSink(bytes: [])
        swap(&o.bytes, &out)
        defer { swap(&o.bytes, &out) }
        o.append(#"{"analysis":"#)
        o.quoted(id)
        o.key("k"); o.integer(k)
        o.key("estimate"); o.number(estimate)
        o.key("se"); o.number(standardError)
        o.key("ci_lower"); o.number(confidenceInterval.lower)
        o.key("ci_upper"); o.number(confidenceInterval.upper)
        o.key("statistic"); o.number(statistic)
        o.key("p_value"); o.number(pValue)
        if let df = degreesOfFreedom { o.key("df"); o.integer(df) }
        if let pi = predictionInterval { o.key("pi_lower"); o.number(pi.lower); o.key("pi_upper"); o.number(pi.upper) }
        if let p = prediction {
            o.key("pi_method")
            o.quoted(p.method.rawValue)
            if let df = p.degreesOfFreedom { o.key("pi_df"); o.integer(df) }
        }
        if let tau2 = tauSquared { o.key("tau2"); o.number(tau2) }
        if let i2 = iSquared { o.key("i2"); o.number(i2) }
        o.key("q"); o.number(q)
        o.key("q_df"); o.integer((k - 1))
        o.key("q_p_value"); o.number(qPValue)
        // back_transformed: as JSONValue.backTransformed (null when not finite, with the reason).
        let estimate = backTransform(estimate), lower = backTransform(confidenceInterval.lower), upper = backTransform(confidenceInterval.upper)
        o.append(#","back_transformed":{"estimate":"#); o.number(estimate)
        o.key("ci_lower"); o.number(lower)
        o.key("ci_upper"); o.number(upper)
        var overflow = estimate == .infinity || lower == .infinity || upper == .infinity
        if let pi = predictionInterval {
            let piLower = backTransform(pi.lower), piUpper = backTransform(pi.upper)
            o.key("pi_lower"); o.number(piLower)
            o.key("pi_upper"); o.number(piUpper)
            overflow = overflow || piLower == .infinity || piUpper == .infinity
        }
        if overflow, let reason = BackTransform.overflowReason([.infinity]) {
            o.key("overflow")
            o.quoted(reason)
        }
        o.append("}}\n")
    }
}
