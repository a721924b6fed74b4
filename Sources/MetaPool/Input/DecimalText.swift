// Numbers read straight from the bytes of a cell, correctly rounded, without a String.

/// Decimal numbers parsed from UTF-8 bytes.
///
/// A number of at most 15 significant digits whose decimal exponent is within ±22 is computed as
/// one product or quotient of two doubles that are both exact (the digits, below 2⁵³, and a
/// power of ten up to 10²²), which IEEE 754 rounds correctly: Clinger (1990), "How to read
/// floating point numbers accurately", PLDI '90, section 3 (the "fast path"). Every other number
/// is handed to the C library's `strtod` through `Double(_:)`, which is correctly rounded too, so
/// the result is always the double nearest the decimal value, as `Double(_:)` gives it.
enum DecimalText {
    /// Exact powers of ten 10⁰ … 10²² (all below 2⁵³ · 2²² and representable exactly).
    private static let powers: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                           1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// The value of `bytes[range]` when it is a decimal number in the grammar of a data cell, or
    /// `nil`: an optional sign, digits with at most one point (at least one digit), and an
    /// optional exponent `e`/`E` with an optional sign and at least one digit; no spaces. With
    /// `json`, JSON's grammar (RFC 8259, section 6): no `+` sign, no leading zeros, digits on both
    /// sides of a point. A number too large for a double is `nil` too.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, json: Bool = false) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        guard i < end else { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        } else if bytes[i] == UInt8(ascii: "+") {
            if json { return nil }
            i += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0       // digits in `mantissa` after leading zeros
        var dropped = false       // a nonzero digit did not fit in `mantissa`
        var exponent = 0          // decimal exponent of `mantissa`
        var digits = 0
        let integerStart = i
        while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
            Self.accumulate(bytes[i], &mantissa, &significant, &dropped, &exponent, fraction: false)
            digits += 1
            i += 1
        }
        if json, digits > 1, bytes[integerStart] == UInt8(ascii: "0") { return nil }
        if json, digits == 0 { return nil }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
                Self.accumulate(bytes[i], &mantissa, &significant, &dropped, &exponent, fraction: true)
                digits += 1
                i += 1
            }
            if json, i == fractionStart { return nil }
        }
        guard digits > 0 else { return nil }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var exponentNegative = false
            if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let exponentStart = i
            var written = 0
            while i < end, bytes[i] &- UInt8(ascii: "0") < 10 {
                if written < 100_000 { written = written * 10 + Int(bytes[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            guard i > exponentStart else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard i == end else { return nil }
        if mantissa == 0 && !dropped { return negative ? -0.0 : 0.0 }
        if !dropped, significant <= 15, exponent >= -22, exponent <= 22 {
            let m = Double(mantissa)
            let value = exponent >= 0 ? m * powers[exponent] : m / powers[-exponent]
            return negative ? -value : value
        }
        // Outside the fast path: the C library (correctly rounded), on the same text.
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)), value.isFinite else {
            return nil
        }
        return value
    }

    @inline(__always)
    private static func accumulate(_ byte: UInt8, _ mantissa: inout UInt64, _ significant: inout Int, _ dropped: inout Bool,
                                   _ exponent: inout Int, fraction: Bool) {
        let d = UInt64(byte &- UInt8(ascii: "0"))
        if significant == 0 && d == 0 {
            if fraction { exponent -= 1 }  // a leading zero after the point
            return
        }
        if significant < 19 {
            mantissa = mantissa &* 10 &+ d
            significant += 1
            if fraction { exponent -= 1 }
        } else {
            if d != 0 { dropped = true }
            if !fraction { exponent += 1 }
        }
    }
}
