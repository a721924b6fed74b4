// The fast fixed-notation writer (NumberFormat+Fixed.swift) against C's "%.*f" itself: the
// same text on edge cases (ties, signed zero, values just beside a tie, the 1e9 switch) and on
// 10⁵ random values of several kinds, for every number of decimals the outputs use.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Fast fixed notation: the text of C's %.*f")
struct NumberFormatFixedTests {
    /// What C writes, through Foundation's formatter (the definition the fast path replaces).
    static func c(_ x: Double, _ digits: Int) -> String { String(format: "%.*f", Int32(digits), x) }

    /// The fast path, where it answers, must equal C; `decimal` must equal C always.
    static func check(_ x: Double, _ digits: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = c(x, digits)
        if let fast = NumberFormat.fastFixed(x, digits: digits) {
            #expect(fast == expected, "fastFixed(\(x.debugDescription), \(digits))", sourceLocation: sourceLocation)
        }
        #expect(NumberFormat.decimal(x, digits: digits) == expected, "decimal(\(x.debugDescription), \(digits))",
                sourceLocation: sourceLocation)
    }

    @Test("ties, signed zeros and neighbours of ties give C's text")
    func edgeCases() {
        var values: [Double] = [0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 0.05, 0.15, 0.25, 0.35, 1e-5, -1e-5,
                                -0.00004, -0.00005, 0.00005, 0.00015, 0.00025, 1.00005, 2.675, 1.005, 999_999_999.5,
                                999_999_999.99999, 123_456_789.123_456_7, 0.1, 0.2, 0.3, 1e-300, -1e-300,
                                .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 4_503_599_627_370_495.5 / 1e7, 0x1p-20, 7.0]
        // Numbers on a tie at each number of decimals, and one ulp either side of it.
        for d in 0...8 {
            for k in [1, 3, 5, 7, 25, 125, 12_345] {
                let tie = (Double(k) + 0.5) / pow(10, Double(d))
                values += [tie, tie.nextUp, tie.nextDown, -tie, -tie.nextUp, -tie.nextDown]
            }
        }
        for x in values {
            for digits in 0...10 { Self.check(x, digits) }
        }
        // The values the tables print most: four decimals of a binary fraction.
        for k in 0..<20_000 {
            let x = Double(k) / 20_000 - 0.5
            Self.check(x, 4)
            Self.check(x, 2)
        }
    }

    @Test("10⁵ random values of several magnitudes give C's text")
    func randomValues() {
        var generator = SplitMix64(seed: 15_001)
        var answered = 0
        for i in 0..<100_000 {
            let x: Double
            switch i % 5 {
            case 0: x = Double.random(in: -1...1, using: &generator)
            case 1: x = Double.random(in: -1e9...1e9, using: &generator).rounded() / 10_000 // decimals near ties
            case 2: x = Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 2_000 // many exact ties
            case 3: x = Double(sign: .plus, exponent: Int.random(in: -40...29, using: &generator),
                               significand: Double.random(in: 1..<2, using: &generator)) * (Bool.random(using: &generator) ? 1 : -1)
            default: x = Double(bitPattern: generator.next() & 0xBFFF_FFFF_FFFF_FFFF) // any magnitude below 2
            }
            let digits = Int.random(in: 0...8, using: &generator)
            guard NumberFormat.isFixed(x) else { continue }
            if NumberFormat.fastFixed(x, digits: digits) != nil { answered += 1 }
            Self.check(x, digits)
        }
        // The fast path answers nearly always (else it would be no faster than C).
        #expect(answered > 90_000)
    }
}
