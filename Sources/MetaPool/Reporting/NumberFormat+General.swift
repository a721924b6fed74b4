// C's "%g" and "%.*e" without Foundation's `String(format:)`: the CLI writes a level such as
// 90.5% and a threshold as "%g" does, and `check` a relative difference as "%.2e" does; without
// Foundation (and the ICU behind it) the CLI links less and starts sooner (issue 15).

extension NumberFormat {
    /// `x` as C's `%.*g` writes it with `precision` significant digits (`%g` is precision 6):
    /// `95.5`, `1e-05`, `1.23457e+08`, `-0`, `inf`, `nan`.
    ///
    /// The rule of ISO C 7.21.6.1 (C11, paragraph 8, conversion `g`): with P the precision (1 when
    /// 0 is given) and X the decimal exponent that `%e` would write with precision P − 1, the
    /// value is written as `%f` with precision P − 1 − X when P > X ≥ −4, else as `%e` with
    /// precision P − 1; then trailing zeros of the fraction are removed, and the decimal point
    /// when no fraction is left. Both forms round |x| at the same decimal place, 10^(X − P + 1),
    /// so the digits are those of `%.*e` (C's correctly rounded conversion, ``exponential(_:digits:)``),
    /// laid out here.
    public static func general(_ x: Double, precision: Int = 6) -> String {
        guard x.isFinite else { return exponential(x, digits: 0) }
        let p = max(precision, 1)
        let scientific = Array(exponential(x, digits: p - 1).utf8)
        // "-d.ddddde+XX": the sign, P digits, the exponent's sign and at least two digits.
        let negative = scientific.first == UInt8(ascii: "-")
        guard let e = scientific.firstIndex(of: UInt8(ascii: "e")) else { return String(decoding: scientific, as: UTF8.self) }
        let digits = scientific[..<e].filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        var exponent = 0
        for c in scientific[(e + 2)...] { exponent = exponent * 10 + Int(c - UInt8(ascii: "0")) }
        if scientific[e + 1] == UInt8(ascii: "-") { exponent = -exponent }

        var out: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        if exponent >= -4 && exponent < p {
            // Fixed notation: X + 1 integer digits (or "0." and −X − 1 zeros), P digits in all.
            var fraction: ArraySlice<UInt8>
            if exponent >= 0 {
                out += digits[..<(exponent + 1)]
                fraction = digits[(exponent + 1)...]
            } else {
                out.append(UInt8(ascii: "0"))
                fraction = ArraySlice(Array(repeating: UInt8(ascii: "0"), count: -exponent - 1) + digits)
            }
            while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
            if !fraction.isEmpty { out += [UInt8(ascii: ".")] + fraction }
        } else {
            // Scientific notation: one digit, the fraction without trailing zeros, and `%e`'s exponent as written.
            out.append(digits[0])
            var fraction = digits.dropFirst()
            while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
            if !fraction.isEmpty { out += [UInt8(ascii: ".")] + fraction }
            out += scientific[e...]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `x` as C's `%.*e` writes it with `digits` decimals in the mantissa (`1.00e-07`), and
    /// `inf`, `-inf`, `nan` or `-nan` (the sign bit of the NaN) where it is not finite, as C
    /// writes them; ``scientific(_:digits:)`` writes R's `Inf` and `NA` instead.
    public static func exponential(_ x: Double, digits: Int) -> String {
        format("%.*e", x, digits: max(0, digits))
    }
}
