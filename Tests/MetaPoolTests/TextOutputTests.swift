// The shared rules for text output (issue 18, items 4, 13 and 14): numbers in fixed or
// scientific notation, natural-scale values that overflow a Double, and input text escaped for
// terminals, XML and spreadsheets.

import MetaPool
import Testing

@Suite("Text output: number notation and escaping")
struct TextOutputTests {
    // MARK: numbers

    @Test("fixed notation below 1e9, as C's %.*f (metafor's formatC)")
    func fixedNotation() {
        #expect(NumberFormat.decimal(0.123456, digits: 4) == "0.1235")
        #expect(NumberFormat.decimal(-2.5, digits: 4) == "-2.5000")
        #expect(NumberFormat.decimal(1e-300, digits: 4) == "0.0000")
        #expect(NumberFormat.decimal(999_999_999.5, digits: 1) == "999999999.5")
        #expect(NumberFormat.decimal(80.5612, digits: 2) == "80.56")
    }

    @Test("scientific notation from 1e9 on, never hundreds of digits")
    func scientificNotation() {
        #expect(NumberFormat.decimal(1e9, digits: 4) == "1.0000e+09")
        // exp(709) = 8.218407461554972e+307, which %.4f writes with 308 digits.
        #expect(NumberFormat.decimal(8.218407461554972e+307, digits: 4) == "8.2184e+307")
        #expect(NumberFormat.decimal(-1.5e300, digits: 2) == "-1.50e+300")
        #expect(NumberFormat.decimal(.greatestFiniteMagnitude, digits: 4) == "1.7977e+308")
    }

    @Test("NaN and infinities as R prints them")
    func nonFinite() {
        #expect(NumberFormat.decimal(.nan, digits: 4) == "NA")
        #expect(NumberFormat.decimal(.infinity, digits: 4) == "Inf")
        #expect(NumberFormat.decimal(-.infinity, digits: 4) == "-Inf")
    }

    /// exp(y) to 50 significant digits from Python's `decimal` (`Decimal(y).exp()`), rounded to 4 decimals.
    @Test("an overflowing exponential is written from its log: e^800 = 2.7264e+347", arguments: [
        (800.0, "2.7264e+347"), (710.0, "2.2340e+308"), (709.79, "1.8108e+308"), (1000.5, "3.2481e+434"), (5000.0, "2.9676e+2171"),
        // e^y = 9.99996e+400: the mantissa rounds up to 10, so the exponent carries.
        (923.3366182906044, "1.0000e+401"),
    ])
    func overflowFromLog(_ y: Double, _ expected: String) {
        #expect(BackTransform.exponential.apply(y) == .infinity)
        #expect(NumberFormat.naturalScale(BackTransform.exponential.apply(y), analysisValue: y, digits: 4) == expected)
    }

    @Test("a finite natural-scale value is written by the common rule")
    func finiteNaturalScale() {
        #expect(NumberFormat.naturalScale(BackTransform.exponential.apply(709), analysisValue: 709, digits: 4) == "8.2184e+307")
        #expect(NumberFormat.naturalScale(BackTransform.exponential.apply(0.5), analysisValue: 0.5, digits: 4) == "1.6487")
        #expect(NumberFormat.naturalScale(BackTransform.inverseLogit.apply(800), analysisValue: 800, digits: 4) == "1.0000")
        #expect(NumberFormat.naturalScale(BackTransform.exponential.apply(-800), analysisValue: -800, digits: 4) == "0.0000")
    }

    @Test("back_transformed JSON: null for an overflowing value, with the reason, and the log values kept")
    func overflowInJSON() throws {
        let summary = PoolSummary.BackTransformed(estimate: .infinity, ciLower: 1e300, ciUpper: .infinity, piLower: nil, piUpper: nil)
        let text = try OrderedJSONEncoder.encode(summary).serialized()
        #expect(!text.lowercased().contains("inf"))
        #expect(text.contains("\"estimate\": null"))
        #expect(text.contains("\"overflow\": \"a value on the natural scale exceeds the largest double"))
        let finite = PoolSummary.BackTransformed(estimate: 2, ciLower: 1, ciUpper: 3, piLower: nil, piUpper: nil)
        #expect(!(try OrderedJSONEncoder.encode(finite).serialized()).contains("overflow"))
    }

    // MARK: terminal

    @Test("control and bidi characters are shown escaped; other text is unchanged")
    func terminalEscaping() {
        #expect(SafeText.terminal("A\u{1B}[2J\u{1B}]0;title\u{07}") == "A\\u{1B}[2J\\u{1B}]0;title\\u{7}")
        #expect(SafeText.terminal("a\nb\r\tc") == "a\\nb\\r\\tc")
        #expect(SafeText.terminal("x\u{7F}\u{85}\u{9B}y") == "x\\u{7F}\\u{85}\\u{9B}y")
        #expect(SafeText.terminal("abc\u{202E}fed\u{2066}\u{2069}") == "abc\\u{202E}fed\\u{2066}\\u{2069}")
        #expect(SafeText.terminal("Müller 2019 – Ω, 日本, C:\\data") == "Müller 2019 – Ω, 日本, C:\\data")
    }

    // MARK: XML

    @Test("XML escaping: entities, and characters XML cannot hold replaced by U+FFFD")
    func xmlEscaping() {
        #expect(SafeText.xml("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
        #expect(SafeText.xml("a<b \"c\"", attribute: false) == "a&lt;b \"c\"")
        #expect(SafeText.xml("x\u{FFFE}\u{FFFF}\u{1B}\u{0}\u{7F}\u{85}y") == "x\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}y")
        #expect(SafeText.xml("a\tb\nc\rd") == "a&#9;b&#10;c&#13;d")
        #expect(SafeText.xml("a\tb\nc\rd", attribute: false) == "a\tb\nc&#13;d")
        #expect(SafeText.xml("😀 \u{10FFFF} é") == "😀 \u{10FFFF} é")
    }

    // MARK: CSV

    @Test("CSV text cells: formula characters guarded with a quote, RFC 4180 quoting kept")
    func csvFields() {
        #expect(SafeText.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(SafeText.csvField("+1") == "'+1")
        #expect(SafeText.csvField("-0.5") == "'-0.5")
        #expect(SafeText.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(SafeText.csvField("\tx") == "'\tx")
        #expect(SafeText.csvField("\rx") == "\"'\rx\"")
        #expect(SafeText.csvField("Smith, 2001") == "\"Smith, 2001\"")
        #expect(SafeText.csvField("line\nbreak") == "\"line\nbreak\"")
        #expect(SafeText.csvField("Smith 2001") == "Smith 2001")
        #expect(SafeText.csvField("a=b") == "a=b")
        // Escape sequences, bidi overrides and noncharacters are escaped; line breaks and tabs kept.
        #expect(SafeText.csvField("red\u{1B}[31m") == "red\\u{1B}[31m")
        #expect(SafeText.csvField("rtl\u{202E}evil") == "rtl\\u{202E}evil")
        // In XML a bidi override is valid but would reorder the drawn label: shown as an escape.
        #expect(SafeText.xml("rtl\u{202E}evil\u{2028}") == "rtl\\u{202E}evil\\u{2028}")
        #expect(SafeText.csvField("a\u{FFFE}b") == "a\\u{FFFE}b")
        #expect(SafeText.csvField("tab\there") == "tab\there")
    }
}
