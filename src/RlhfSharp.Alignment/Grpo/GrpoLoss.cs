using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Grpo;

/// <summary>
/// GRPO's token-level objective (Shao et al. 2024, DeepSeekMath eq. 3), as a loss to minimise:
/// per response token, with r = π_θ/π_old = exp(logp − logp_old),
/// <code>
/// L_t = −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A) + β·k3(logp, logp_ref)
/// k3 = π_ref/π_θ − log(π_ref/π_θ) − 1 = exp(logp_ref − logp) − (logp_ref − logp) − 1
/// </code>
/// (the clipped surrogate of PPO, Schulman et al. 2017, eq. 7; the k3 KL estimator of DeepSeekMath
/// eq. 4, Schulman 2020 "Approximating KL divergence": unbiased for KL(π_θ ‖ π_ref) and never
/// negative). GRPO puts the KL in the loss rather than in the reward. ε_high ≠ ε_low gives DAPO's
/// "clip-higher" (Yu et al. 2025). The per-token losses are reduced with a
/// <see cref="LossAggregation"/>: <c>SeqMeanTokenMean</c> is the paper's 1/G Σ_i 1/|o_i| Σ_t,
/// <c>TokenMean</c> the length-unbiased form TRL and DAPO default to.
/// </summary>
public static class GrpoLoss
{
    /// <summary>
    /// logProbs [B, T] (current policy, with grad), oldLogProbs [B, T] (policy that sampled, constant),
    /// refLogProbs [B, T] (frozen reference, constant), advantages [B, T] (from
    /// <see cref="GroupAdvantages.ToTokens"/>) or [B] (one per response), responseMask [B, T]
    /// (1 on response tokens; 0 on prompt and padding) -> <see cref="GrpoOutput"/> (Loss []).
    /// Log-probs are those of the sampled token at each position (see F.TokenLogProbs).
    /// <paramref name="clipEpsHigh"/> defaults to <paramref name="clipEps"/>; <paramref name="klCoef"/>
    /// is β (DeepSeekMath uses 0.04); β = 0 drops the KL term.
    /// </summary>
    public static GrpoOutput Compute(
        Tensor logProbs,
        Tensor oldLogProbs,
        Tensor refLogProbs,
        Tensor advantages,
        Tensor responseMask,
        float clipEps = 0.2f,
        float klCoef = 0.04f,
        LossAggregation aggregation = LossAggregation.TokenMean,
        float? clipEpsHigh = null)
    {
        float epsHigh = clipEpsHigh ?? clipEps;
        if (!(clipEps >= 0 && clipEps < 1) || !(epsHigh >= 0))
            throw new ArgumentOutOfRangeException(nameof(clipEps), $"clip ranges must satisfy 0 ≤ ε_low < 1 and ε_high ≥ 0; got {clipEps} and {epsHigh}");
        if (!(klCoef >= 0))
            throw new ArgumentOutOfRangeException(nameof(klCoef), klCoef, "the KL coefficient β must be ≥ 0");
        var shape = logProbs.Shape;
        if (logProbs.Rank != 2 || !shape.AsSpan().SequenceEqual(oldLogProbs.Shape) || !shape.AsSpan().SequenceEqual(refLogProbs.Shape)
            || !shape.AsSpan().SequenceEqual(responseMask.Shape))
        {
            throw new ShapeMismatchException("GrpoLoss", $"log-probs, old log-probs, reference log-probs and mask must all be [B, T]; got [{string.Join(", ", shape)}], [{string.Join(", ", oldLogProbs.Shape)}], [{string.Join(", ", refLogProbs.Shape)}] and [{string.Join(", ", responseMask.Shape)}]");
        }
        var adv = advantages.Rank == 1 && advantages.Size(0) == shape[0] ? advantages.Unsqueeze(1)
            : advantages.Rank == 2 && advantages.Shape.AsSpan().SequenceEqual(shape) ? advantages
            : throw new ShapeMismatchException("GrpoLoss", $"advantages must be [B, T] or [B] with B = {shape[0]}, T = {shape[1]}; got [{string.Join(", ", advantages.Shape)}]");
        adv = adv.Detach();

        // Clipped surrogate (PPO, Schulman et al. 2017, eq. 7), negated: max(−r·A, −clip(r)·A)
        var ratio = logProbs.Sub(oldLogProbs.Detach()).Exp();                           // [B, T]
        var unclipped = ratio.Mul(adv).Neg();                                           // [B, T]
        var clipped = ratio.Clamp(1f - clipEps, 1f + epsHigh).Mul(adv).Neg();           // [B, T]
        var policyLoss = unclipped.Maximum(clipped);                                    // [B, T]

        var kl = K3(logProbs, refLogProbs.Detach());                                    // [B, T]
        var perToken = klCoef == 0f ? policyLoss : policyLoss.Add(kl.Mul(klCoef));
        var loss = LossAggregator.Aggregate(perToken, responseMask, aggregation);

        // Metrics: token means over the mask.
        var mask = Array.ConvertAll(responseMask.Float().ToArray(), v => (double)v);
        var u = unclipped.ToArray();
        var c = clipped.ToArray();
        var isClipped = new double[u.Length];
        for (int i = 0; i < u.Length; i++)
            isClipped[i] = c[i] > u[i] ? 1 : 0;
        var klValues = Array.ConvertAll(kl.ToArray(), v => (double)v);
        double clipFraction = LossAggregator.Aggregate(isClipped, mask, shape[1], LossAggregation.TokenMean);
        double meanKl = LossAggregator.Aggregate(klValues, mask, shape[1], LossAggregation.TokenMean);
        return new GrpoOutput(loss, clipFraction, meanKl);
    }

    // k3 estimator of KL(π_θ ‖ π_ref) per token (DeepSeekMath eq. 4): exp(d) − d − 1 with d = logp_ref − logp.
    // logProbs [B, T], refLogProbs [B, T] -> [B, T]
    private static Tensor K3(Tensor logProbs, Tensor refLogProbs)
    {
        var d = refLogProbs.Sub(logProbs);
        return d.Exp().Sub(d).Sub(1f);
    }
}
