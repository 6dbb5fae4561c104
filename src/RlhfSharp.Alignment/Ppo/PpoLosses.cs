using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

// PPO's update half, the terms of one minibatch's loss: the clipped surrogate (PolicyLoss, registered
// as ppo_clip), the clipped value loss (ValueLoss) and the entropy bonus (EntropyBonus).

/// <summary>
/// PPO's clipped surrogate objective (Schulman et al. 2017, eq. 7), as a loss to minimise
/// (registered as <c>ppo_clip</c>): ratio = exp(logp − oldLogp);
/// loss_t = max(−A_t·ratio_t, −A_t·clip(ratio_t, 1 − ε, 1 + ε_high)).
/// </summary>
public static class PolicyLoss
{
    /// <summary>
    /// logp [B, T] (with grad), oldLogp [B, T], advantages [B, T] (constant), responseMask [B, T]
    /// -> <see cref="PolicyLossOutput"/> (Loss []). The gradient w.r.t. logp_t is −A_t·ratio_t/N
    /// (token mean over N real tokens) where the unclipped branch is active, and 0 where the
    /// clipped branch is; ties go to the unclipped branch.
    /// </summary>
    public static PolicyLossOutput PpoClip(Tensor logp, Tensor oldLogp, Tensor advantages, Tensor responseMask, PolicyLossSettings settings)
    {
        const string Caller = "PolicyLoss.PpoClip";
        ResponseMask.CheckShape(logp, responseMask, Caller, "logp");
        ResponseMask.CheckShape(oldLogp, responseMask, Caller, "oldLogp");
        ResponseMask.CheckShape(advantages, responseMask, Caller, "advantages");
        double low = settings.ClipLow, high = settings.ClipHigh ?? settings.ClipLow;
        if (!(low >= 0 && low < 1) || !(high >= 0))
            throw new ArgumentOutOfRangeException(nameof(settings), $"{Caller}: the clip range ε ({low}) must lie in [0, 1) and ε_high ({high}) be >= 0");

        var logRatio = Masked.Zeroed(logp.Sub(oldLogp.Detach()), responseMask); // padding: ratio 1, no gradient
        var ratio = logRatio.Exp();
        var negAdv = Masked.Zeroed(advantages.Detach().Float(), responseMask).Neg();
        var unclipped = negAdv.Mul(ratio);
        var clipped = negAdv.Mul(ratio.Clamp((float)(1 - low), (float)(1 + high)));
        var perToken = unclipped.Maximum(clipped);
        var loss = LossAggregator.Aggregate(perToken, responseMask, settings.Aggregation);

        var lr = logRatio.Detach().Double();
        double approxKl = Masked.Mean(KlEstimators.PerToken(lr, lr.Mul(0f), settings.ApproxKl), responseMask).ItemDouble();
        var ratios = lr.Exp();
        double ratioMean = Masked.Mean(ratios, responseMask).ItemDouble();
        return new PolicyLossOutput(loss, perToken, Masked.FractionGreater(clipped, unclipped, responseMask), approxKl, ratioMean, Masked.Max(ratios, responseMask));
    }
}

/// <summary>The clipped value loss and its clip fraction (TRL's val/clipfrac).</summary>
/// <param name="Loss">Aggregated loss [], differentiable w.r.t. the values.</param>
/// <param name="ClipFraction">Fraction of real tokens where the clipped squared error was the larger one.</param>
public sealed record ValueLossOutput(Tensor Loss, double ClipFraction);

/// <summary>
/// Clipped value loss (OpenAI baselines' PPO2, TRL): v_clipped = V_old + clip(V − V_old, −ε_v, ε_v);
/// loss_t = ½·max((V_t − R_t)², (v_clipped_t − R_t)²).
/// </summary>
public static class ValueLoss
{
    /// <summary>
    /// values [B, T]: critic V under the current weights (with grad); oldValues [B, T]: V when the
    /// batch was collected (constant); returns [B, T]: GAE returns R (constant); responseMask [B, T]
    /// (padding gets no gradient). clipRange ε_v.
    /// </summary>
    public static ValueLossOutput Compute(
        Tensor values,
        Tensor oldValues,
        Tensor returns,
        Tensor responseMask,
        double clipRange = 0.2,
        LossAggregation aggregation = LossAggregation.TokenMean)
    {
        const string Caller = "ValueLoss.Compute";
        ResponseMask.CheckShape(values, responseMask, Caller, "values");
        ResponseMask.CheckShape(oldValues, responseMask, Caller, "oldValues");
        ResponseMask.CheckShape(returns, responseMask, Caller, "returns");
        if (!(clipRange >= 0))
            throw new ArgumentOutOfRangeException(nameof(clipRange), clipRange, $"{Caller}: clipRange must be >= 0");

        var v = Masked.Zeroed(values, responseMask);
        var vOld = Masked.Zeroed(oldValues.Detach().Float(), responseMask);
        var r = Masked.Zeroed(returns.Detach().Float(), responseMask);
        var vClipped = vOld.Add(v.Sub(vOld).Clamp((float)-clipRange, (float)clipRange));
        var e1 = v.Sub(r);
        var e2 = vClipped.Sub(r);
        var unclipped = e1.Mul(e1);
        var clipped = e2.Mul(e2);
        var loss = LossAggregator.Aggregate(unclipped.Maximum(clipped).Mul(0.5f), responseMask, aggregation);

        return new ValueLossOutput(loss, Masked.FractionGreater(clipped, unclipped, responseMask));
    }
}

/// <summary>The entropy bonus as a loss term and the aggregated entropy it came from (policy/entropy).</summary>
/// <param name="Loss">−c₂·H [], to add to the loss.</param>
/// <param name="Entropy">The aggregated entropy H [], differentiable.</param>
public sealed record EntropyBonusOutput(Tensor Loss, Tensor Entropy);

/// <summary>
/// The entropy bonus of PPO's combined objective (Schulman et al. 2017, eq. 9: + c₂·S[π]), as a
/// term to add to the loss: −c₂ · aggregate(H_t).
/// </summary>
public static class EntropyBonus
{
    /// <summary>
    /// entropy [B, T]: per-token entropy of the policy's next-token distribution (e.g. F.Entropy of
    /// the logits), differentiable; responseMask [B, T]; coef c₂ ≥ 0 -> <see cref="EntropyBonusOutput"/>.
    /// </summary>
    public static EntropyBonusOutput Compute(Tensor entropy, Tensor responseMask, double coef, LossAggregation aggregation = LossAggregation.TokenMean)
    {
        if (!(coef >= 0))
            throw new ArgumentOutOfRangeException(nameof(coef), coef, "EntropyBonus.Compute: coef must be >= 0");
        var h = LossAggregator.Aggregate(entropy, responseMask, aggregation);
        return new EntropyBonusOutput(h.Mul(-coef), h);
    }
}
