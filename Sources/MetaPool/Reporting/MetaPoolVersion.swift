// The one place MetaPool's version is written down.

/// The version of MetaPool: `metapool --version` prints it and `pool --format json` records it
/// as `metapool_version`, so that `metapool check` can say which version wrote a baseline.
public enum MetaPoolVersion {
    /// The version of this build, e.g. `"0.1.0"`.
    public static let current = "0.1.0"
}
