// Benchmarks of the performance-critical pooling: τ² estimators at k = 10³…10⁶ against a plain
// summing pass over the same arrays (the floor), one full analysis of k = 14, the GLMM and the
// sensitivity analyses at k = 10⁵, and the batch engine on 10⁵ analyses with 1 and 2 tasks.

import Benchmark
import MetaPool

/// Deterministic synthetic studies: effects around 0.4 with τ² ≈ 0.05 and variances in [0.01, 0.5].
func synthetic(_ k: Int, seed: UInt64 = 42) -> (y: [Double], v: [Double]) {
    var state = seed
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    var y = [Double](), v = [Double]()
    y.reserveCapacity(k); v.reserveCapacity(k)
    for _ in 0..<k {
        let vi = 0.01 + 0.49 * uniform()
        // Sum of uniforms as a cheap approximately normal deviate.
        let z = (uniform() + uniform() + uniform() + uniform() - 2) * 1.7320508075688772
        y.append(0.4 + z * (vi + 0.05).squareRoot())
        v.append(vi)
    }
    return (y, v)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let k14 = synthetic(14)
    Benchmark("Full inference k=14 (REML, HKSJ, PI, Q-profile CI)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let effects = try EffectSizes.generic(yi: k14.y, vi: k14.v)
        for _ in benchmark.scaledIterations {
            let fit = try MetaAnalysis(effects, method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
            blackHole(try fit.heterogeneityIntervals())
            blackHole(fit.predictionInterval)
        }
    }

    // The quantiles every fit asks for (remembered per distribution, df and probability by QuantileCache).
    Benchmark("Quantiles t(13) 0.975 and chi^2(13) 0.025/0.975 (repeated)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(StudentT(degreesOfFreedom: 13).survivalQuantile(0.025))
            blackHole(ChiSquared(degreesOfFreedom: 13).survivalQuantile(0.025))
            blackHole(ChiSquared(degreesOfFreedom: 13).quantile(0.025))
        }
    }

    // The whole DL fit at k = 10^4 (as compare.py's k1e4_dl) against one summing pass over the same arrays.
    let dl1e4 = synthetic(10_000)
    // The effect sizes built once, outside the measured closure (building 10^4 study labels costs more than the fit).
    let dlEffects = try! EffectSizes.generic(yi: dl1e4.y, vi: dl1e4.v)
    Benchmark("DL whole fit k=1e4 (MetaAnalysis)") { benchmark in
        let effects = dlEffects
        for _ in benchmark.scaledIterations {
            blackHole(try MetaAnalysis(effects, method: .derSimonianLaird))
        }
    }
    // k = 10^4: the floor of the DL whole fit above (same data: synthetic(10_000)).
    for k in [1_000, 10_000, 100_000, 1_000_000] {
        let data = synthetic(k)
        Benchmark("Floor: one summing pass k=\(k)") { benchmark in
            for _ in benchmark.scaledIterations {
                var s = 0.0
                data.y.withUnsafeBufferPointer { y in
                    data.v.withUnsafeBufferPointer { v in
                        for i in 0..<y.count { s += y[i] / v[i] }
                    }
                }
                blackHole(s)
            }
        }
        let estimators: [(String, any TauSquaredEstimator.Type)] = [
            ("DL", DerSimonianLaird.self), ("REML", RestrictedMaximumLikelihood.self), ("PM", PauleMandel.self),
        ]
        for (name, estimator) in estimators {
            Benchmark("\(name) tau^2 k=\(k)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try estimator.tauSquared(y: data.y, v: data.v))
                }
            }
        }
    }

    // Meta-regression: k = 10⁵ studies, an intercept and 10 numeric moderators, REML.
    let regressionData = synthetic(100_000, seed: 11)
    var regressionDesign = [Double](repeating: 0, count: 100_000 * 11)
    var moderatorState: UInt64 = 99
    for i in 0..<100_000 {
        regressionDesign[i * 11] = 1
        for j in 1..<11 {
            moderatorState = moderatorState &* 6364136223846793005 &+ 1442695040888963407
            regressionDesign[i * 11 + j] = Double(moderatorState >> 11) / Double(1 << 53)
        }
    }
    let regressionNames = ["intrcpt"] + (1...10).map { "x\($0)" }
    Benchmark("Meta-regression k=1e5, 10 moderators (REML)", configuration: .init(maxDuration: .seconds(10), maxIterations: 50)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try MetaRegression(y: regressionData.y, v: regressionData.v, design: regressionDesign, predictors: regressionNames))
        }
    }

    // The three-level model (cohorts within clusters), REML: one evaluation is O(k) through the
    // block structure, so k = 10⁴ in 10³ clusters and k = 10⁵ in 10⁴ clusters differ about tenfold.
    for (k, clusters) in [(10_000, 1_000), (100_000, 10_000)] {
        let data = synthetic(k, seed: 11)
        let cluster = (0..<k).map { $0 * clusters / k }
        let model = try! ThreeLevelModel(yi: data.y, vi: data.v, cluster: cluster)
        Benchmark("Three-level REML k=\(k) in \(clusters) clusters", configuration: .init(maxDuration: .seconds(10), maxIterations: 50)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try model.fit(method: .restrictedMaximumLikelihood))
            }
        }
    }

    // The Bayesian normal–normal model (issue 17): the quadrature over τ costs O(k) per node, and the
    // summary (quantiles of μ, τ and the predictive, and each study's shrinkage posterior: ~60 passes
    // over the nodes per study) O(k·nodes):
    // 10x the studies should cost about 10x.
    for k in [1_000, 10_000, 100_000] {
        let data = synthetic(k, seed: 17)
        Benchmark("Bayesian normal-normal k=\(k): posterior of tau (half-normal(0.5))", configuration: .init(maxDuration: .seconds(10), maxIterations: 50)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try BayesianMetaAnalysis(yi: data.y, vi: data.v, tauPrior: .halfNormal(scale: 0.5)))
            }
        }
        // (The summary at k = 10⁵ takes about a minute: left out.)
        guard k <= 10_000 else { continue }
        let bayes = try! BayesianMetaAnalysis(yi: data.y, vi: data.v, tauPrior: .halfNormal(scale: 0.5))
        Benchmark("Bayesian normal-normal k=\(k): summary with shrinkage", configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try bayes.summary(level: 0.95, threshold: 0))
            }
        }
    }

    // The Bayesian models of counts (issue 17): the binomial–normal model of events/total and the
    // hypergeometric–normal model of two-group counts integrate every study's random effect at each (μ, τ)
    // node, so 10x the studies should cost about 10x (fit: the posterior of (μ, τ); summary: μ, τ, the
    // predictive and each study's posterior).
    for k in [10, 100] {
        let events: [Double] = (0..<k).map { Double(3 + ($0 * 7) % 13) }
        let totals: [Double] = (0..<k).map { Double(20 + ($0 * 11) % 25) }
        let controlEvents: [Double] = (0..<k).map { Double(1 + ($0 * 5) % 11) }
        let controlTotals: [Double] = (0..<k).map { Double(22 + ($0 * 13) % 23) }
        Benchmark("Bayesian binomial-normal k=\(k): fit and summary", configuration: .init(maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
            for _ in benchmark.scaledIterations {
                let model = try BinomialBayesianMetaAnalysis(events: events, totals: totals, tauPrior: .halfNormal(scale: 0.5))
                blackHole(try model.summary(level: 0.95, threshold: 0))
            }
        }
        Benchmark("Bayesian hypergeometric-normal (odds ratio) k=\(k): fit and summary", configuration: .init(maxDuration: .seconds(20), maxIterations: 10)) { benchmark in
            for _ in benchmark.scaledIterations {
                let model = try OddsRatioBayesianMetaAnalysis(treatEvents: events, treatTotals: totals, controlEvents: controlEvents,
                                                              controlTotals: controlTotals, tauPrior: .halfNormal(scale: 0.5))
                blackHole(try model.summary(level: 0.95, threshold: 0))
            }
        }
    }

    // The three-level binomial GLMM (Laplace) and the three-level meta-regression (p = 3): O(k) per
    // evaluation through each cluster's block, so 10x the studies should cost about 10x.
    for (k, clusters) in [(10_000, 1_000), (100_000, 10_000)] {
        let cluster = (0..<k).map { $0 * clusters / k }
        let events: [Double] = (0..<k).map { (i: Int) -> Double in
            let r: Int = (i * 7 + (i / 3) * 5) % 17
            return Double(2 + r)
        }
        let totals: [Double] = (0..<k).map { (i: Int) -> Double in Double(25 + (i * 11) % 30) }
        let binomial = try! ThreeLevelBinomialModel(events: events, totals: totals, cluster: cluster)
        Benchmark("Three-level GLMM (Laplace) k=\(k) in \(clusters) clusters", configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try binomial.fit())
            }
        }
        let data = synthetic(k, seed: 13)
        var design = [Double](repeating: 1, count: 3 * k)
        for i in 0..<k {
            design[3 * i + 1] = Double(i % 7) / 7
            design[3 * i + 2] = Double(cluster[i] % 2)
        }
        let regression = try! ThreeLevelRegression(yi: data.y, vi: data.v, cluster: cluster, design: design,
                                                    predictors: ["intrcpt", "x", "cluster_level"])
        Benchmark("Three-level regression REML p=3 k=\(k) in \(clusters) clusters", configuration: .init(maxDuration: .seconds(10), maxIterations: 50)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try regression.fit(method: .restrictedMaximumLikelihood))
            }
        }
    }

    let k1e4 = synthetic(10_000, seed: 5)
    let fit1e4 = try! MetaAnalysis(try! EffectSizes.generic(yi: k1e4.y, vi: k1e4.v), method: .derSimonianLaird)

    // The JSON summary of k = 10⁴ studies (OrderedJSONEncoder): linear, not quadratic, in k.
    Benchmark("JSON summary k=1e4 (encode and serialize)", configuration: .init(maxDuration: .seconds(5), maxIterations: 50)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try OrderedJSONEncoder.encode(fit1e4.summary()).serialized())
        }
    }

    // GLMM for proportions, k = 20 (7-point adaptive Gauss-Hermite quadrature).
    let glmmEvents: [Double] = (0..<20).map { Double(3 + ($0 * 7) % 15) }
    let glmmTotals: [Double] = (0..<20).map { Double(20 + ($0 * 11) % 30) }
    Benchmark("GLMM k=20 (PLO, 7 quadrature points)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try GeneralizedLinearMixedModel(events: glmmEvents, totals: glmmTotals))
        }
    }

    // GLMM for proportions at k = 10⁵ with the Laplace approximation (issue 18: a search that
    // compared log-likelihoods below their rounding error crept for hundreds of iterations; each
    // iteration is O(k), and the number of iterations must not grow with k). One study of 10⁹
    // patients makes ℓ's terms cancel from ~10¹⁰.
    let (largeEvents, largeTotals): ([Double], [Double]) = {
        var events: [Double] = [], totals: [Double] = []
        var state: UInt64 = 2026
        for _ in 0..<100_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let n = Double(10 + Int((state >> 11) % 191))
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let p = 0.15 + 0.2 * Double(state >> 11) / Double(1 << 53)
            events.append((n * p).rounded())
            totals.append(n)
        }
        return (events + [3e8], totals + [1e9])
    }()
    Benchmark("GLMM k=1e5 (PLO, Laplace), one study of 1e9", configuration: .init(maxDuration: .seconds(30), maxIterations: 5)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try GeneralizedLinearMixedModel(events: largeEvents, totals: largeTotals, quadraturePoints: 1))
        }
    }

    // Sensitivity at k = 10⁵ (REML): leave-one-out, cumulative and influence from power sums,
    // O(k·iterations) overall (issue 18: 6 min 47 s when each refit summed over the k studies).
    let k1e5 = synthetic(100_000, seed: 8)
    let fit1e5 = try! MetaAnalysis(try! EffectSizes.generic(yi: k1e5.y, vi: k1e5.v), method: .restrictedMaximumLikelihood)
    Benchmark("Sensitivity k=1e5 (REML): leave-one-out, cumulative, influence", configuration: .init(maxDuration: .seconds(30), maxIterations: 5)) { benchmark in
        for _ in benchmark.scaledIterations {
            let loo = try LeaveOneOut(fit1e5)
            blackHole(InfluenceDiagnostics(loo))
            blackHole(try CumulativeAnalysis(fit1e5))
        }
    }

    // Leave-one-out and influence diagnostics at k = 10⁴ (DL).
    Benchmark("Leave-one-out k=1e4 (DL)", configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try LeaveOneOut(fit1e4)) }
    }
    Benchmark("Influence diagnostics k=1e4 (DL)", configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try InfluenceDiagnostics(fit1e4)) }
    }

    // The batch engine: 10⁵ analyses of k = 10 (a simulation study), on 1 and on 2 tasks.
    let batchInput: [BatchAnalysis.Analysis] = (0..<100_000).compactMap { i in
        let d = synthetic(10, seed: UInt64(i + 1))
        return try? BatchAnalysis.Analysis(id: String(i), yi: d.y, vi: d.v)
    }
    let engine = BatchAnalysis(method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
    for tasks in [1, 2] {
        Benchmark("Batch 1e5 analyses k=10 (REML, HKSJ), \(tasks) task\(tasks == 1 ? "" : "s")",
                  configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(await engine.run(batchInput, tasks: tasks))
            }
        }
    }
}
