using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Kl;

/// <summary>
/// KL estimators per token (Schulman, "Approximating KL Divergence", 2020): k1 = logp − logp_ref,
/// k2 = ½ (logp − logp_ref)², k3 = (r − 1) − log r with r = exp(logp_ref − logp). logp are the
/// log-probabilities of the sampled tokens under the policy, logp_ref under the reference.
/// </summary>
public static class KlEstimators
{
    /// <summary>Per-token KL estimate, differentiable w.r.t. both inputs. logp [B, T], logpRef [B, T] -> [B, T]</summary>
    public static Tensor PerToken(Tensor logp, Tensor logpRef, KlEstimator estimator)
    {
        if (!logp.Shape.AsSpan().SequenceEqual(logpRef.Shape))
            throw new ArgumentException($"KlEstimators.PerToken: logp is [{string.Join(", ", logp.Shape)}] but logpRef is [{string.Join(", ", logpRef.Shape)}]");
        var diff = logp.Sub(logpRef); // logp − logp_ref = −log r
        return estimator switch
        {
            KlEstimator.K1 => diff,
            KlEstimator.K2 => diff.Mul(diff).Mul(0.5f),
            // (r − 1) − log r with log r = −diff.
            KlEstimator.K3 => diff.Neg().Exp().Sub(1f).Add(diff),
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "KlEstimators.PerToken: unknown estimator"),
        };
    }

    /// <summary>
    /// Mean per-token KL over the real response tokens of the batch, differentiable.
    /// logp [B, T], logpRef [B, T], mask [B, T] (1 real token, 0 padding) -> []
    /// </summary>
    public static Tensor MaskedMean(Tensor logp, Tensor logpRef, Tensor mask, KlEstimator estimator)
    {
        ResponseMask.CheckShape(logp, mask, "KlEstimators.MaskedMean", "logp");
        // Padding may hold anything (−∞ log-probs included): replace it before it meets Exp.
        var lp = Masked.Zeroed(logp, mask);
        var lr = Masked.Zeroed(logpRef, mask);
        return Masked.Mean(PerToken(lp, lr, estimator), mask);
    }

    /// <summary>One token's KL estimate from its two log-probabilities.</summary>
    public static double PerToken(double logp, double logpRef, KlEstimator estimator)
    {
        double diff = logp - logpRef;
        return estimator switch
        {
            KlEstimator.K1 => diff,
            KlEstimator.K2 => 0.5 * diff * diff,
            KlEstimator.K3 => Math.Exp(-diff) - 1 + diff,
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "KlEstimators.PerToken: unknown estimator"),
        };
    }

    /// <summary>Per-token KL on plain numbers; padding gets 0. logp [B, T], logpRef [B, T], mask [B, T] -> [B, T]</summary>
    public static double[,] PerToken(double[,] logp, double[,] logpRef, double[,] mask, KlEstimator estimator)
    {
        ResponseMask.CheckShape(logp, mask, "KlEstimators.PerToken", "logp");
        ResponseMask.CheckShape(logpRef, mask, "KlEstimators.PerToken", "logpRef");
        ResponseMask.Lengths(mask, "KlEstimators.PerToken");
        var kl = new double[mask.GetLength(0), mask.GetLength(1)];
        for (int b = 0; b < mask.GetLength(0); b++)
            for (int t = 0; t < mask.GetLength(1); t++)
                kl[b, t] = mask[b, t] == 0 ? 0 : PerToken(logp[b, t], logpRef[b, t], estimator);
        return kl;
    }

    /// <summary>Mean per-token KL over real tokens. logp [B, T], logpRef [B, T], mask [B, T] -> scalar</summary>
    public static double MaskedMean(double[,] logp, double[,] logpRef, double[,] mask, KlEstimator estimator) =>
        Masked.Mean(PerToken(logp, logpRef, mask, estimator), mask);
}
