// The one rule for writing a number as text (tables, plots, the report): fixed notation in a
// sane range, scientific notation outside it, and natural-scale values that overflow a Double
// written from their analysis-scale value instead of as "inf".

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Numbers as text for people. Every table, plot label and report cell MetaPool writes goes
/// through this rule (JSON and CSV keep full precision instead):
///
/// - a magnitude below ``scientificThreshold`` (10⁹) in fixed notation with the requested
///   decimals, as metafor prints (`0.1234`, `-2.5000`, `0.0000`);
/// - a larger magnitude in scientific notation with as many decimals in the mantissa
///   (`8.2184e+307`), never the 300 digits fixed notation would print;
/// - NaN as `NA` and ±∞ as `Inf`/`-Inf`, as R prints them.
///
/// Values on the natural scale go through ``naturalScale(_:analysisValue:digits:)``, which
/// never writes `Inf` for a finite estimate whose back-transform overflows.
public enum NumberFormat {
    /// The magnitude from which numbers are written in scientific notation.
    public static let scientificThreshold = 1e9

    /// Whether `x` is written in fixed notation (finite and below ``scientificThreshold``).
    public static func isFixed(_ x: Double) -> Bool { x.isFinite && abs(x) < scientificThreshold }

    /// `x` with `digits` decimals (C's `%.*f`, which R's `formatC` and `sprintf` use), or in
    /// scientific notation (`%.*e`) from 10⁹ on.
    public static func decimal(_ x: Double, digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "NA" : (x > 0 ? "Inf" : "-Inf") }
        if isFixed(x), let text = fastFixed(x, digits: max(0, digits)) { return text }
        return format(isFixed(x) ? "%.*f" : "%.*e", x, digits: max(0, digits))
    }

    /// `x` in scientific notation with `digits` decimals in the mantissa (`8.22e+307`).
    public static func scientific(_ x: Double, digits: Int) -> String {
        guard x.isFinite else { return decimal(x, digits: digits) }
        return format("%.*e", x, digits: max(0, digits))
    }

    /// A value on the natural scale (`natural`, the back-transform of `analysisValue`).
    ///
    /// The only back-transform that can overflow is the exponential (logit, arcsine and
    /// Freeman–Tukey are bounded), so an infinite `natural` of a finite `analysisValue` is
    /// e^`analysisValue` beyond the largest Double (`analysisValue` > 709.78). It is written in
    /// scientific notation from the analysis scale: e^y = 10^(y / ln 10) = m·10^e with
    /// e = ⌊y / ln 10⌋ and m = 10^(y / ln 10 − e). The relative error of m is about
    /// |y|·2⁻⁵² (below 10⁻¹² for every y a Double holds up to 10⁴), far below the digits shown.
    public static func naturalScale(_ natural: Double, analysisValue y: Double, digits: Int) -> String {
        guard natural == .infinity, y.isFinite, y > 0 else { return decimal(natural, digits: digits) }
        let log10Value = y / 2.302585092994045684017991454684364208
        var exponent = log10Value.rounded(.down)
        let m = pow(10, log10Value - exponent)
        var mantissa = fastFixed(m, digits: max(0, digits)) ?? format("%.*f", m, digits: max(0, digits))
        if mantissa.hasPrefix("10") {
            // The mantissa rounded up to 10: one more in the exponent.
            exponent += 1
            mantissa = format("%.*f", 1, digits: max(0, digits))
        }
        return mantissa + "e+" + String(Int(exponent))
    }

    /// C's formatted output of one Double (`%.*f` or `%.*e`), in the C locale's decimal point.
    static func format(_ pattern: String, _ x: Double, digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let needed = withVaList([Int32(digits), x]) { vsnprintf(&buffer, buffer.count, pattern, $0) }
        if needed >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
            _ = withVaList([Int32(digits), x]) { vsnprintf(&buffer, buffer.count, pattern, $0) }
        }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
