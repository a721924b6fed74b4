// The test-support helpers (MetaPoolTestSupport) can fail: isClose, expectClose, SplitMix64.

import Testing
@testable import MetaPoolTestSupport

@Suite("Test support: isClose, expectClose, SplitMix64")
struct CloseSupportTests {
    @Test("both tolerances, the larger magnitude as the scale, nil and NaN")
    func isCloseMeaning() {
        #expect(isClose(1, 1 + 0.9e-6, relative: 1e-6, absolute: 0))
        #expect(!isClose(1, 1 + 1.1e-6, relative: 1e-6, absolute: 0))
        #expect(isClose(0, 1e-11, relative: 1e-6, absolute: 1e-10))
        #expect(!isClose(0, 1e-9, relative: 1e-6, absolute: 1e-10))
        #expect(isClose(100.01, 100, relative: 0, absolute: 0.02) && !isClose(100.03, 100, relative: 0, absolute: 0.02))
        #expect(isClose(nil, nil, relative: 0, absolute: 0))
        #expect(!isClose(nil, 0, relative: 1, absolute: 1) && !isClose(0, nil, relative: 1, absolute: 1))
        #expect(!isClose(.nan, .nan, relative: 1, absolute: 1) && !isClose(.nan, 0, relative: 1, absolute: 1))
        #expect(isClose(.infinity, .infinity, relative: 0, absolute: 0) && !isClose(.infinity, 1e308, relative: 1, absolute: 0))
        // A relative tolerance above 1 (isApproximatelyEqual asserts ≤ 1) is applied as written.
        #expect(isClose(1, 2.5, relative: 1.5, absolute: 0) && !isClose(-10, 10, relative: 1.5, absolute: 0))
    }

    @Test("expectClose records an issue when not close, none when close")
    func expectCloseRecords() {
        expectClose(2, 2 + 1e-12, relative: 1e-9, absolute: 0, "close")
        withKnownIssue { expectClose(2, 3, relative: 1e-9, absolute: 1e-9, "far") }
        withKnownIssue { expectClose(nil, 3, relative: 1, absolute: 1) }
    }

    @Test("SplitMix64 is the published stream for seed 0")
    func splitMix() {
        // Steele, Lea & Flood (2014) / Vigna's splitmix64.c from state 0.
        var g = SplitMix64(seed: 0)
        #expect([g.next(), g.next(), g.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }
}
