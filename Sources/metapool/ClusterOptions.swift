// `--cluster COLUMN [--robust [--robust-type CR1|CR2]]`: the three-level model (cohorts within
// clusters) and its cluster-robust tests. Its own option group so that `pool` can take it too.

import ArgumentParser
import MetaPool

struct ClusterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Three-level model: the column naming each row's cluster (e.g. the trial of several cohorts), as metafor's rma.mv(random = ~ 1 | cluster/cohort); each row is its own cohort. Values compared trimmed and ignoring case. REML or ML.", valueName: "column"))
    var cluster: String?

    @Flag(help: "With --cluster: cluster-robust tests of every coefficient (CR2 with Satterthwaite df, as clubSandwich's coef_test; --robust-type CR1 for metafor's robust()).")
    var robust = false

    @Option(name: .customLong("robust-type"), help: ArgumentHelp("With --robust: CR2 (default; Satterthwaite df) or CR1 (metafor's robust(): n/(n - p) sandwich, t on n - p df, and its F-test of the moderators).", valueName: "type"))
    var robustType: String?

    /// The adjustment `--robust-type` names (CR2 when not given); nil for an unknown name.
    var adjustment: ClusterRobustCoefficients.Adjustment? {
        guard let robustType else { return .cr2 }
        return ClusterRobustCoefficients.Adjustment(rawValue: robustType.trimmingWhitespace().uppercased())
    }

    func validate() throws {
        if let robustType, adjustment == nil {
            throw ValidationError("--robust-type must be CR1 (metafor's robust()) or CR2 (clubSandwich, Satterthwaite df); got \(robustType)")
        }
        if robustType != nil && !robust { throw ValidationError("--robust-type chooses the adjustment of --robust; give --robust as well") }
        if robust && cluster == nil { throw ValidationError("--robust tests the coefficients cluster by cluster; give --cluster COLUMN as well") }
        if let cluster, cluster.trimmingWhitespace().isEmpty { throw ValidationError("--cluster needs a column name") }
    }
}
