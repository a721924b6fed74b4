// Reading a batch outcome in tests.

import MetaPool

extension Swift.Result where Success == BatchAnalysis.Fit, Failure == MetaPoolError {
    /// The fit, or `nil` for a failure.
    var fit: BatchAnalysis.Fit? { if case .success(let f) = self { f } else { nil } }
    /// The error, or `nil` for a fit.
    var error: MetaPoolError? { if case .failure(let e) = self { e } else { nil } }
}
