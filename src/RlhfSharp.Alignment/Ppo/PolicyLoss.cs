using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>The clipped policy loss and the metrics PPO logs with it (TRL's policy/clipfrac, policy/approxkl).</summary>
/// <param name="Loss">Aggregated loss [], differentiable w.r.t. logp.</param>
/// <param name="ClipFraction">Fraction of real tokens where the clipped branch was the larger (active) one.</param>
/// <param name="ApproxKl">Mean over real tokens of the chosen estimator of KL(π_old ‖ π) between the sampling and current policy.</param>
/// <param name="RatioMean">Mean of π/π_old over real tokens.</param>
/// <param name="RatioMax">Largest π/π_old over real tokens.</param>
public sealed record PolicyLossResult(Tensor Loss, double ClipFraction, double ApproxKl, double RatioMean, double RatioMax);

/// <summary>
/// PPO's clipped surrogate objective (Schulman et al. 2017, eq. 7), as a loss to minimise:
/// ratio = exp(logp − logp_old); loss_t = max(−A_t·ratio_t, −A_t·clip(ratio_t, 1 − ε, 1 + ε_high)).
/// </summary>
public static class PolicyLoss
{
    /// <summary>
    /// logp [B, T]: log-probabilities of the sampled tokens under the current policy (with grad);
    /// logpOld [B, T]: the same under the policy that sampled them (no grad);
    /// advantages [B, T] (no grad); mask [B, T]: 1 real response token, 0 padding (padding may hold
    /// anything and gets no gradient). clipRange ε; clipRangeHigh ε_high (defaults to ε; the
    /// asymmetric "clip-higher" of DAPO, Yu et al. 2025, when larger). approxKl: the estimator for
    /// the logged KL, K2 = ½(logp − logp_old)² by default as TRL's approxkl; K3 as verl's low-variance KL.
    /// The gradient w.r.t. logp_t is −A_t·ratio_t/N (token mean over N real tokens) where the
    /// unclipped branch is active, and 0 where the clipped branch is.
    /// </summary>
    public static PolicyLossResult Compute(
        Tensor logp,
        Tensor logpOld,
        Tensor advantages,
        Tensor mask,
        double clipRange = 0.2,
        LossAggregation aggregation = LossAggregation.TokenMean,
        KlEstimator approxKl = KlEstimator.K2,
        double? clipRangeHigh = null)
    {
        const string Caller = "PolicyLoss.Compute";
        ResponseMask.CheckShape(logp, mask, Caller, "logp");
        ResponseMask.CheckShape(logpOld, mask, Caller, "logpOld");
        ResponseMask.CheckShape(advantages, mask, Caller, "advantages");
        double high = clipRangeHigh ?? clipRange;
        if (!(clipRange >= 0 && clipRange < 1) || !(high >= 0))
            throw new ArgumentOutOfRangeException(nameof(clipRange), $"{Caller}: clipRange ({clipRange}) must lie in [0, 1) and clipRangeHigh ({high}) be >= 0");

        var logRatio = Masked.Zeroed(logp.Sub(logpOld.Detach()), mask); // padding: ratio 1, no gradient
        var ratio = logRatio.Exp();
        var negAdv = Masked.Zeroed(advantages.Detach(), mask).Neg();
        var unclipped = negAdv.Mul(ratio);
        var clipped = negAdv.Mul(ratio.Clamp((float)(1 - clipRange), (float)(1 + high)));
        var lossPerToken = unclipped.Maximum(clipped); // ties go to the unclipped branch
        var loss = LossAggregator.Aggregate(lossPerToken, mask, aggregation);

        var m = mask.ToArray();
        var lr = logRatio.ToArray();
        var u = unclipped.ToArray();
        var c = clipped.ToArray();
        int count = 0, clippedCount = 0;
        double kl = 0, ratioSum = 0, ratioMax = double.NegativeInfinity;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] == 0)
                continue;
            count++;
            if (c[i] > u[i])
                clippedCount++;
            kl += KlEstimators.PerToken(lr[i], 0, approxKl);
            double r = Math.Exp(lr[i]);
            ratioSum += r;
            ratioMax = Math.Max(ratioMax, r);
        }
        return new PolicyLossResult(loss, (double)clippedCount / count, kl / count, ratioSum / count, ratioMax);
    }
}
