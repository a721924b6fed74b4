// LAPACKE opened on first use (LinearAlgebra/LAPACK.swift): the routines resolve and compute, and a
// library that cannot be opened is one typed error, not a crash.

import Testing
@testable import MetaPool

@Suite struct LAPACKLoadingTests {
    /// The installed libraries load and dpotrf/dpotrs solve [[4, 2], [2, 3]]·x = (2, 1): x = (0.5, 0).
    @Test func installedLibrariesSolve() throws {
        var a: [Double] = [4, 2, 2, 3]
        var b: [Double] = [2, 1]
        let lower = CChar(UInt8(ascii: "L"))
        #expect(try LAPACK.dpotrf(lower, 2, &a, 2) == 0)
        // Cholesky factor of the lower triangle: l11 = 2, l21 = 1, l22 = √2.
        #expect(abs(a[0] - 2) <= 1e-15 && abs(a[1] - 1) <= 1e-15 && abs(a[3] - 2.0.squareRoot()) <= 1e-15)
        #expect(try LAPACK.dpotrs(lower, 2, 1, &a, 2, &b, 2) == 0)
        #expect(abs(b[0] - 0.5) <= 1e-15 && abs(b[1]) <= 1e-15)
    }

    /// A LAPACKE that is not there: the loader reports it as `.unavailableLibrary`, naming what it tried.
    @Test func missingLibraryIsATypedError() {
        let result = LAPACK.load(blas: [], lapacke: ["libmetapool-no-such-lapacke.so.9"])
        guard case .failure(let error) = result else {
            Issue.record("a library that does not exist loaded")
            return
        }
        #expect(error.kind == .unavailableLibrary)
        #expect(error.reason.contains("libmetapool-no-such-lapacke.so.9"), "\(error.reason)")
        #expect(error.reason.contains("apt-get install liblapacke libopenblas0"), "\(error.reason)")
    }
}
