using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// Dual-clip PPO (Ye et al. 2020, Mastering Complex Control in MOBA Games with Deep RL), as a
/// loss to minimise (registered as <c>dual_clip</c>): PPO's clipped surrogate
/// (<see cref="PolicyLoss.PpoClip"/>), and where A_t &lt; 0 further bounded by −c·A_t with c &gt; 1:
/// loss_t = min(max(−A_t·r_t, −A_t·clip(r_t, 1 − ε, 1 + ε_high)), −c·A_t) for A_t &lt; 0. A very
/// large ratio on a negative-advantage token (π far above π_old) then no longer makes an unbounded
/// loss or gradient.
/// </summary>
public static class DualClipPolicyLoss
{
    /// <summary>
    /// logp [B, T] (with grad), oldLogp [B, T], advantages [B, T] (constant), responseMask [B, T]
    /// -> <see cref="PolicyLossOutput"/> (Loss []); c is <see cref="PolicyLossSettings.DualClipC"/>.
    /// Where the −c·A bound is active the token has no gradient; ties go to the PPO term.
    /// </summary>
    public static PolicyLossOutput Compute(Tensor logp, Tensor oldLogp, Tensor advantages, Tensor responseMask, PolicyLossSettings settings)
    {
        double c = settings.DualClipC;
        if (!(c > 1) || double.IsInfinity(c))
            throw new ArgumentOutOfRangeException(nameof(settings), c, $"DualClipPolicyLoss.Compute: the dual-clip bound c ({c}) must be a finite number > 1 (Ye et al. use 3)");
        var ppo = PolicyLoss.PpoClip(logp, oldLogp, advantages, responseMask, settings);

        var adv = Masked.Zeroed(advantages.Detach().Double(), responseMask); // [B, T], 0 on padding
        var a = adv.ToDoubleArray();
        var negative = new float[a.Length];
        for (int i = 0; i < a.Length; i++)
            negative[i] = a[i] < 0 ? 1 : 0;
        var isNegative = Tensor.FromArray(negative, responseMask.Shape);
        var bound = adv.Mul(-c); // −c·A [B, T], constant
        if (ppo.PerToken.Dtype != DType.Float64)
            bound = bound.Float();
        var perToken = Tensor.Where(isNegative, ppo.PerToken.Minimum(bound), ppo.PerToken);
        var loss = LossAggregator.Aggregate(perToken, responseMask, settings.Aggregation);
        // the bound is active where A < 0 and the PPO term exceeds it (padding has A = 0)
        double dualClipFraction = Masked.FractionGreater(Tensor.Where(isNegative, ppo.PerToken.Detach().Double(), bound.Double()), bound.Double(), responseMask);
        return ppo with { Loss = loss, PerToken = perToken, DualClipFraction = dualClipFraction };
    }
}
