// C's "%.Nf" without C's formatter: the same text, written from an integer, for the fixed
// notation every table row uses (the formatter's variadic call was a quarter of `pool`'s time
// on 10⁶ studies).

extension NumberFormat {
    /// Powers of ten that a Double holds exactly (10²² is the last: 5²² < 2⁵³).
    private static let exactPowersOfTen: [Double] = (0...22).reduce(into: []) { p, _ in p.append(p.last.map { $0 * 10 } ?? 1) }
    private static let integerPowersOfTen: [UInt64] = (0...19).reduce(into: []) { p, _ in p.append(p.last.map { $0 * 10 } ?? 1) }

    /// `x` as C's `%.*f` writes it with `digits` decimals, or `nil` where this fast path cannot
    /// be sure of the same text (the caller then asks C).
    ///
    /// glibc's `printf` rounds the exact binary value of `x` to `digits` decimals, ties to even
    /// (ISO C 7.21.6.1: "correctly rounded" in the current rounding mode). With s = 10^digits
    /// exact (digits ≤ 22), y = |x|·s computed in double precision is within half an ulp of the
    /// exact product |x|·s. Where y's fraction lies farther than one ulp of y from ½, the exact
    /// product lies on the same side of ½ as y, so ⌊y⌋ or ⌊y⌋ + 1 is the correctly rounded
    /// integer; ⌊y⌋ and y − ⌊y⌋ are exact in binary arithmetic. Nearer ½ (a possible tie, or a
    /// product the multiplication moved across ½), and for y ≥ 2⁵⁰, it returns `nil`. The sign
    /// is printed from the sign bit, as `printf` does (`-0.0000` for −0.00001 and for −0).
    static func fastFixed(_ x: Double, digits: Int) -> String? {
        guard digits <= 17, x.isFinite else { return nil }
        let scaled = x.magnitude * exactPowersOfTen[digits]
        guard scaled < 0x1p50 else { return nil }
        let whole = scaled.rounded(.down)
        let fraction = scaled - whole
        guard (fraction - 0.5).magnitude > scaled.ulp else { return nil }
        let n = UInt64(whole) + (fraction > 0.5 ? 1 : 0)
        let scale = integerPowersOfTen[digits]
        let integerPart = n / scale, decimals = n % scale
        // At most 1 sign + 16 integer digits (n ≤ 2⁵⁰ < 10¹⁶) + 1 point + 17 decimals; built on
        // the stack, so that the usual 6 to 15 characters make a small String with no allocation.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            var i = 0
            if x.sign == .minus { buffer[i] = UInt8(ascii: "-"); i += 1 }
            // The integer part's digits, most significant first.
            var digitsOfInteger = 1
            var rest = integerPart / 10
            while rest > 0 { digitsOfInteger += 1; rest /= 10 }
            var v = integerPart
            for j in stride(from: i + digitsOfInteger - 1, through: i, by: -1) {
                buffer[j] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            i += digitsOfInteger
            if digits > 0 {
                buffer[i] = UInt8(ascii: ".")
                var d = decimals
                for j in stride(from: i + digits, through: i + 1, by: -1) {
                    buffer[j] = UInt8(ascii: "0") + UInt8(d % 10)
                    d /= 10
                }
                i += digits + 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<i]), as: UTF8.self)
        }
    }
}
