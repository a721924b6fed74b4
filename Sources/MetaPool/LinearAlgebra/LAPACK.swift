// LAPACKE (OpenBLAS) loaded on first use: the five routines the meta-regression and the GLMM's
// quadrature call, so that the intercept-only path never maps the libraries nor starts OpenBLAS's threads.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The LAPACKE routines MetaPool uses, resolved with `dlopen`/`dlsym` the first time one is called.
///
/// Linking LAPACKE and OpenBLAS into the process cost every `metapool` run about 3 ms of start-up
/// (mapping and relocating OpenBLAS, LAPACK and libgfortran, and OpenBLAS's constructor starting
/// its thread pool) although only the meta-regression (Cholesky `dpotrf`/`dpotrs`/`dpotri`, QR
/// `dgelsy`) and the Gauss–Hermite rule (`dstev`) need them. OpenBLAS is opened first and globally,
/// so that LAPACKE's calls into LAPACK resolve to OpenBLAS's routines, as they did when linked
/// (`-llapacke -lopenblas`): the same code computes the same numbers. If the libraries cannot be
/// loaded, each call throws one ``MetaPoolError`` naming them and the packages that provide them.
enum LAPACK {
    /// LAPACK_COL_MAJOR in lapacke.h.
    static let columnMajor: Int32 = 102

    typealias Dpotrf = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Double>?, Int32) -> Int32
    typealias Dpotrs = @convention(c) (Int32, CChar, Int32, Int32, UnsafePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32) -> Int32
    typealias Dstev = @convention(c) (Int32, CChar, Int32, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?,
                                      UnsafeMutablePointer<Double>?, Int32) -> Int32
    typealias Dgelsy = @convention(c) (Int32, Int32, Int32, Int32, UnsafeMutablePointer<Double>?, Int32,
                                       UnsafeMutablePointer<Double>?, Int32, UnsafeMutablePointer<Int32>?, Double,
                                       UnsafeMutablePointer<Int32>?) -> Int32

    /// The resolved entry points.
    struct Routines: @unchecked Sendable {
        var dpotrf: Dpotrf
        var dpotri: Dpotrf
        var dpotrs: Dpotrs
        var dstev: Dstev
        var dgelsy: Dgelsy
    }

    #if canImport(Darwin)
    static let libraryNames = (blas: ["libopenblas.dylib", "libopenblas.0.dylib"], lapacke: ["liblapacke.dylib", "liblapacke.3.dylib"])
    #else
    static let libraryNames = (blas: ["libopenblas.so.0", "libopenblas.so"], lapacke: ["liblapacke.so.3", "liblapacke.so"])
    #endif

    /// Loaded once, on the first call (a Swift global is initialized exactly once, thread-safely).
    private static let loaded: Result<Routines, MetaPoolError> = load(blas: libraryNames.blas, lapacke: libraryNames.lapacke)

    /// Opens the first of `blas` that exists (globally), then the first of `lapacke`, and resolves the routines.
    static func load(blas: [String], lapacke: [String]) -> Result<Routines, MetaPoolError> {
        // OpenBLAS is optional: without it LAPACKE uses whatever LAPACK its own dependencies name.
        for name in blas where dlopen(name, RTLD_NOW | RTLD_GLOBAL) != nil { break }
        var handle: UnsafeMutableRawPointer?
        var reason = ""
        for name in lapacke {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            if reason.isEmpty, let message = dlerror() { reason = String(cString: message) }
        }
        func failure(_ detail: String) -> Result<Routines, MetaPoolError> {
            .failure(MetaPoolError(.unavailableLibrary, "the meta-regression and the GLMM need LAPACKE and OpenBLAS, which could not be loaded (\(detail)); install liblapacke and libopenblas (Debian and Ubuntu: apt-get install liblapacke libopenblas0)"))
        }
        guard let handle else { return failure(reason.isEmpty ? "tried \(lapacke.joined(separator: ", "))" : reason) }
        func symbol<F>(_ name: String, as type: F.Type) -> F? {
            guard let address = dlsym(handle, name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
        guard let dpotrf = symbol("LAPACKE_dpotrf", as: Dpotrf.self), let dpotri = symbol("LAPACKE_dpotri", as: Dpotrf.self),
              let dpotrs = symbol("LAPACKE_dpotrs", as: Dpotrs.self), let dstev = symbol("LAPACKE_dstev", as: Dstev.self),
              let dgelsy = symbol("LAPACKE_dgelsy", as: Dgelsy.self) else {
            return failure("a LAPACKE routine is missing from the library")
        }
        return .success(Routines(dpotrf: dpotrf, dpotri: dpotri, dpotrs: dpotrs, dstev: dstev, dgelsy: dgelsy))
    }

    @inline(__always)
    private static func routines() throws(MetaPoolError) -> Routines {
        switch loaded {
        case .success(let r): return r
        case .failure(let error): throw error
        }
    }

    /// LAPACKE_dpotrf: Cholesky factor of a symmetric positive definite matrix (column-major).
    static func dpotrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32) throws(MetaPoolError) -> Int32 {
        try routines().dpotrf(columnMajor, uplo, n, a, lda)
    }

    /// LAPACKE_dpotri: the inverse from the Cholesky factor.
    static func dpotri(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32) throws(MetaPoolError) -> Int32 {
        try routines().dpotri(columnMajor, uplo, n, a, lda)
    }

    /// LAPACKE_dpotrs: solves A·X = B from the Cholesky factor of A.
    static func dpotrs(_ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32,
                       _ b: UnsafeMutablePointer<Double>, _ ldb: Int32) throws(MetaPoolError) -> Int32 {
        try routines().dpotrs(columnMajor, uplo, n, nrhs, a, lda, b, ldb)
    }

    /// LAPACKE_dstev: eigenvalues (and vectors) of a symmetric tridiagonal matrix.
    static func dstev(_ jobz: CChar, _ n: Int32, _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>,
                      _ z: UnsafeMutablePointer<Double>, _ ldz: Int32) throws(MetaPoolError) -> Int32 {
        try routines().dstev(columnMajor, jobz, n, d, e, z, ldz)
    }

    /// LAPACKE_dgelsy: least squares by QR with column pivoting, with the numerical rank.
    static func dgelsy(_ m: Int32, _ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32,
                       _ b: UnsafeMutablePointer<Double>, _ ldb: Int32, _ jpvt: UnsafeMutablePointer<Int32>, _ rcond: Double,
                       _ rank: UnsafeMutablePointer<Int32>) throws(MetaPoolError) -> Int32 {
        try routines().dgelsy(columnMajor, m, n, nrhs, a, lda, b, ldb, jpvt, rcond, rank)
    }
}
