// The "%g" and "%.*e" writers (NumberFormat+General.swift) against Foundation's String(format:),
// which the CLI used before: the same text on the edges of the %g rule (the −4 and P exponent
// switches, rounding that carries into a new digit, signed zero, non-finite values) and on 10⁵
// random values of many magnitudes, for several precisions.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("%g and %.*e: the text of C's formatter")
struct NumberFormatGeneralTests {
    static func checkGeneral(_ x: Double, precision: Int = 6, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = precision == 6 ? String(format: "%g", x) : String(format: "%.*g", Int32(precision), x)
        #expect(NumberFormat.general(x, precision: precision) == expected, "general(\(x.debugDescription), \(precision))",
                sourceLocation: sourceLocation)
    }

    @Test("the %g rule's edges give C's text", arguments: [6, 1, 0, 2, 3, 10, 17])
    func edgeCases(precision: Int) {
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 95.5, 90, 99.9, 99.99, 0.3, 1.0 / 3, 2.0 / 3, 1e-5, 1e-4, 0.0001, 0.00012345,
                                0.000099999949, 0.0000999995, 123_456, 999_999, 999_999.4, 999_999.5, 1_000_000, 1e6, 1e7,
                                123_456_789, 1e100, 1e-100, 1e300, 1e-300, .greatestFiniteMagnitude, .leastNormalMagnitude,
                                .leastNonzeroMagnitude, 0.1, 0.25, 2.5, 1.5e-7, 12.5, 0.125, 5e-5, 4.99999e-5, 9.5, 9.95,
                                99.95, 0.95, 0.9, 1.0005, 100.0005]
        // Around every power of ten a Double can hold, and halfway points of six digits.
        for e in -12...12 {
            let p = pow(10, Double(e))
            values += [p, p.nextUp, p.nextDown, p * 9.999995, p * 9.9999949, p * 1.000005, p * 1.0000049]
        }
        for x in values {
            Self.checkGeneral(x, precision: precision)
            Self.checkGeneral(-x, precision: precision)
        }
    }

    @Test("non-finite values are written as C writes them")
    func nonFinite() {
        for x in [Double.infinity, -.infinity, .nan, -Double.nan] {
            #expect(NumberFormat.general(x) == String(format: "%g", x))
            #expect(NumberFormat.exponential(x, digits: 2) == String(format: "%.2e", x))
        }
        #expect(NumberFormat.general(.infinity) == "inf" && NumberFormat.general(-.infinity) == "-inf")
        #expect(NumberFormat.general(.nan) == "nan")
    }

    @Test("known values: levels and thresholds as the tables show them")
    func knownValues() {
        #expect(NumberFormat.general(95.5) == "95.5")
        #expect(NumberFormat.general(0.3) == "0.3")
        #expect(NumberFormat.general(1e-5) == "1e-05")
        #expect(NumberFormat.general(0.0001) == "0.0001")
        #expect(NumberFormat.general(123_456_789) == "1.23457e+08")
        #expect(NumberFormat.general(999_999.5) == "1e+06")
        #expect(NumberFormat.general(-0.0) == "-0")
        #expect(NumberFormat.general(1e300) == "1e+300")
        #expect(NumberFormat.exponential(1e-7, digits: 2) == "1.00e-07")
        #expect(NumberFormat.exponential(0.0123456, digits: 2) == "1.23e-02")
    }

    @Test("10⁵ random values of many magnitudes give C's text")
    func randomValues() {
        var generator = SplitMix64(seed: 15_006)
        for i in 0..<100_000 {
            let x: Double
            switch i % 4 {
            case 0: x = Double.random(in: 0...100, using: &generator)
            case 1: x = Double(Int.random(in: -2_000_000...2_000_000, using: &generator)) / 20 // short decimals, ties in binary
            case 2: x = Double(sign: Bool.random(using: &generator) ? .plus : .minus, exponent: Int.random(in: -1074...1023, using: &generator),
                               significand: Double.random(in: 1..<2, using: &generator))
            default: x = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF) // any finite bit pattern
            }
            Self.checkGeneral(x)
            if i % 10 == 0 { Self.checkGeneral(x, precision: Int.random(in: 1...17, using: &generator)) }
            let digits = Int.random(in: 0...8, using: &generator)
            #expect(NumberFormat.exponential(x, digits: digits) == String(format: "%.*e", Int32(digits), x),
                    "exponential(\(x.debugDescription), \(digits))")
        }
    }
}
