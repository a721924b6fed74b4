// The one comparison of floating-point results the suites share, and the one seeded generator.
//
// `isClose` is swift-numerics' `isApproximatelyEqual(to:absoluteTolerance:relativeTolerance:)`:
// a value equal to the expected one is close; otherwise |actual − expected| must be finite and at
// most max(absolute, relative · max(|actual|, |expected|)). Every call site states both
// tolerances; there are no defaults.

import Numerics
import Testing

/// Whether `actual` is within `relative` (of the larger magnitude) or `absolute` of `expected`.
/// Both `nil` are close; one `nil` is not. NaN is never close, not even to NaN.
///
/// - Parameters:
///   - relative: between 0 and 1.
///   - absolute: finite, at least 0.
func isClose(_ actual: Double?, _ expected: Double?, relative: Double, absolute: Double) -> Bool {
    guard let actual, let expected else { return actual == nil && expected == nil }
    guard relative <= 1, absolute.isFinite else {
        // isApproximatelyEqual asserts 0 ≤ relative ≤ 1 and a finite absolute tolerance (a GLMM
        // p-value's tolerance z²·δ can pass 1): the same bound, written out.
        let difference = abs(actual - expected)
        return actual == expected
            || (difference.isFinite && difference <= max(absolute, relative * max(abs(actual), abs(expected))))
    }
    return actual.isApproximatelyEqual(to: expected, absoluteTolerance: absolute, relativeTolerance: relative)
}

/// Records an issue at the caller's location unless `isClose(actual, expected, …)`, with both
/// values, their difference and the tolerances in the message after `comment`.
func expectClose(_ actual: Double?, _ expected: Double?, relative: Double, absolute: Double,
                 _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard !isClose(actual, expected, relative: relative, absolute: absolute) else { return }
    func show(_ x: Double?) -> String { x.map { "\($0)" } ?? "nil" }
    var difference = ""
    if let actual, let expected {
        let delta = abs(actual - expected)
        difference = ", |difference| \(delta) (relative \(expected == 0 ? .infinity : delta / abs(expected)))"
    }
    let prefix = comment()
    Issue.record(Comment(rawValue: (prefix.isEmpty ? "" : prefix + ": ")
                         + "got \(show(actual)), expected \(show(expected))\(difference); "
                         + "tolerance relative \(relative), absolute \(absolute)"),
                 sourceLocation: sourceLocation)
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast generator whose stream is fixed by its
/// seed, so a failing randomized test fails the same way on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: Int) { state = UInt64(bitPattern: Int64(seed)) }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
