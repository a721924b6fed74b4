// metafor's rma.glmm(test = "t") for the binomial GLMMs: the same estimate and standard error,
// with Student's t on k − p degrees of freedom for the test and interval of the fixed effect.

extension GeneralizedLinearMixedModel {
    /// The fit with the pooled log odds tested and bounded on Student's t with k − 1 df: metafor
    /// 3.8-1's rma.glmm(test = "t") sets ddf = k − p (p = 1 fixed effect here) and forms
    /// μ̂ ± t_{k−p, 1−α/2}·SE (Viechtbauer 2010, JSS 36(3), §3.3 on test = "t"). The heterogeneity
    /// tests and τ̂² are unchanged.
    public func withTTest() -> GeneralizedLinearMixedModel {
        var copy = self
        copy.pooled = EstimateInference(estimate: pooled.estimate, standardError: pooled.standardError, level: level,
                                        degreesOfFreedom: count - 1)
        return copy
    }
}

extension OddsRatioMixedModel {
    /// As ``GeneralizedLinearMixedModel/withTTest()``: t on k − 1 df, k the studies in the model
    /// (the fixed study intercepts of UM.FS are nuisance parameters, not counted in metafor's p).
    public func withTTest() -> OddsRatioMixedModel {
        var copy = self
        copy.pooled = EstimateInference(estimate: pooled.estimate, standardError: pooled.standardError, level: level,
                                        degreesOfFreedom: count - 1)
        return copy
    }
}
