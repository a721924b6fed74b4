// Small helpers for writing SVG by hand: number formatting and text widths (escaping is SafeText.xml).

/// Text and number helpers shared by the forest and funnel plots and the HTML report.
enum SVG {
    /// Fonts present on a bare Linux box with fontconfig (DejaVu ships with most distributions
    /// and with librsvg's dependencies), then common fallbacks.
    static let fontFamily = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"

    /// A coordinate with at most two decimals, no exponent.
    static func coordinate(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let r = (x * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        return fixed(r, digits: 2)
    }

    /// `x` with `digits` decimals, rounded half away from zero ("-0.00" printed as "0.00"); from
    /// 10⁹ on in scientific notation, by the rule every output shares (``NumberFormat``).
    static func fixed(_ x: Double, digits: Int) -> String {
        guard NumberFormat.isFixed(x) else { return NumberFormat.decimal(x, digits: digits) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return NumberFormat.decimal(x, digits: digits) }
        let units = Int(scaled)
        let negative = x < 0 && units != 0
        var text = String(units / Int(scale))
        if digits > 0 {
            var fraction = String(units % Int(scale))
            while fraction.count < digits { fraction = "0" + fraction }
            text += "." + fraction
        }
        return negative ? "-" + text : text
    }

    /// A value for an axis tick: as few decimals as the tick needs (0.5, 1, 2.5, 0.01).
    static func tick(_ x: Double) -> String {
        // Ticks of a log axis reaching 1e-300 or 1e300: the fewest mantissa digits that give the tick back.
        if (x != 0 && abs(x) < 1e-6) || !NumberFormat.isFixed(x) {
            for digits in 0...6 {
                let text = NumberFormat.scientific(x, digits: digits)
                if let back = Double(text), abs(back - x) <= abs(x) * 1e-9 { return text }
            }
            return NumberFormat.scientific(x, digits: 6)
        }
        for digits in 0...6 {
            let text = fixed(x, digits: digits)
            if let back = Double(text), abs(back - x) <= abs(x) * 1e-9 + 1e-12 { return text }
        }
        return fixed(x, digits: 6)
    }

    /// A p-value with four decimals, "p < 0.0001" below that.
    static func pValue(_ p: Double) -> String {
        guard p.isFinite else { return "p = NA" }
        return p < 1e-4 ? "p < 0.0001" : "p = " + fixed(p, digits: 4)
    }

    /// An estimate of the advance width of `text` in DejaVu Sans at `size` px: per-character
    /// classes of its advance widths (in em), so that columns are wide enough without a font file.
    static func textWidth(_ text: String, size: Double) -> Double {
        var em = 0.0
        for s in text.unicodeScalars {
            switch s {
            case "i", "l", "j", ".", ",", ":", ";", "'", "|", "!", "I": em += 0.30
            case " ", "f", "t", "r", "(", ")", "[", "]", "-": em += 0.40
            case "m", "w", "M", "W", "%": em += 0.95
            case "0"..."9": em += 0.64
            case "A"..."Z": em += 0.72
            case "a"..."z": em += 0.61
            default: em += s.value >= 0x2E80 ? 1.0 : 0.68
            }
        }
        return em * size
    }
}
