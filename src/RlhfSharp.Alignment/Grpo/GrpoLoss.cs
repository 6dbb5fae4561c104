using RlhfSharp.Alignment.Kl;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Grpo;

/// <summary>
/// GRPO's token-level objective (Shao et al. 2024, DeepSeekMath eq. 3), as a loss to minimise:
/// a policy loss (the clipped surrogate of PPO, <see cref="PolicyLoss.PpoClip"/>, by default) plus β times a KL
/// estimate to the reference, added per token before aggregation (GRPO puts the KL in the loss
/// rather than in the reward):
/// <code>
/// L_t = −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A) + β·k3(logp, refLogp)
/// </code>
/// with k3 = π_ref/π_θ − log(π_ref/π_θ) − 1 (DeepSeekMath eq. 4; <see cref="KlEstimators"/>):
/// unbiased for KL(π_θ ‖ π_ref) and never negative. ε_high ≠ ε_low gives DAPO's clip-higher
/// (Yu et al. 2025). The aggregation <c>SeqMeanTokenMean</c> is the paper's 1/G Σ_i 1/|o_i| Σ_t,
/// <c>TokenMean</c> the length-unbiased form TRL and DAPO default to.
/// </summary>
public static class GrpoLoss
{
    /// <summary>
    /// logp [B, T] (with grad), oldLogp [B, T], refLogp [B, T], advantages [B, T] (constant; see
    /// <see cref="GroupAdvantages.ToTokens"/>), responseMask [B, T] -> <see cref="GrpoOutput"/> (Loss []).
    /// beta is β (DeepSeekMath uses 0.04); β = 0 drops the KL term. policyLoss is the surrogate
    /// (default <see cref="PolicyLoss.PpoClip"/>; any of <c>Algorithms.PolicyLosses</c>).
    /// </summary>
    public static GrpoOutput Compute(
        Tensor logp,
        Tensor oldLogp,
        Tensor refLogp,
        Tensor advantages,
        Tensor responseMask,
        PolicyLossSettings settings,
        double beta = 0.04,
        PolicyLossFunction? policyLoss = null,
        KlEstimator klEstimator = KlEstimator.K3)
    {
        if (!(beta >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "GrpoLoss.Compute: the KL coefficient β must be >= 0");
        ResponseMask.CheckShape(refLogp, responseMask, "GrpoLoss.Compute", "refLogp");
        var pg = (policyLoss ?? PolicyLoss.PpoClip)(logp, oldLogp, advantages, responseMask, settings);
        // Padding may hold anything (−∞ included): zeroed before it meets Exp, so no NaN reaches the gradient.
        var kl = KlEstimators.PerToken(Masked.Zeroed(logp, responseMask), Masked.Zeroed(refLogp.Detach(), responseMask), klEstimator); // [B, T]
        var perToken = beta == 0 ? pg.PerToken : pg.PerToken.Add(kl.Mul(beta));
        var loss = LossAggregator.Aggregate(perToken, responseMask, settings.Aggregation);
        double meanKl = Masked.Mean(kl.Detach().Double(), responseMask).ItemDouble();
        return new GrpoOutput(loss, pg.ClipFraction, meanKl) { DualClipFraction = pg.DualClipFraction };
    }
}
