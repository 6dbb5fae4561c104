namespace RlhfSharp.Alignment.Kl;

/// <summary>
/// Per-token estimators of KL(π ‖ π_ref) from one sample x ~ π (Schulman, "Approximating KL
/// Divergence", 2020), with r = π_ref(x)/π(x) = exp(logp_ref − logp).
/// </summary>
public enum KlEstimator
{
    /// <summary>k1 = −log r = logp − logp_ref: unbiased, high variance, can be negative.</summary>
    K1,

    /// <summary>k2 = ½ (log r)²: biased, low variance, never negative.</summary>
    K2,

    /// <summary>k3 = (r − 1) − log r: unbiased, low variance, never negative (GRPO's KL term).</summary>
    K3,
}
