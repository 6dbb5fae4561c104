using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Kl;

/// <summary>
/// KL estimators per token (Schulman, "Approximating KL Divergence", 2020), for KL(π ‖ π_ref) from
/// tokens sampled from π: with d = logp_ref − logp (so r = π_ref/π = exp d),
/// k1 = −d = logp − logp_ref, k2 = ½ d², k3 = (r − 1) − log r = exp(d) − d − 1 (DeepSeekMath eq. 4).
/// The one implementation of each, used for the KL in PPO's reward, the KL term of GRPO's loss and
/// every logged KL: differentiable on float32 inputs, exact float64 on float64 inputs.
/// </summary>
public static class KlEstimators
{
    /// <summary>The names configs use (kl_estimator), in order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["k1", "k2", "k3"];

    /// <summary>The estimator a config names; an unknown name lists the valid ones.</summary>
    public static KlEstimator Parse(string name) => name switch
    {
        "k1" => KlEstimator.K1,
        "k2" => KlEstimator.K2,
        "k3" => KlEstimator.K3,
        _ => throw new UnknownAlgorithmException("KL estimator", name, Names),
    };

    /// <summary>The config name of an estimator.</summary>
    public static string Name(KlEstimator estimator) => Names[(int)estimator];

    /// <summary>Per-token KL estimate. logp [B, T], refLogp [B, T] -> [B, T]</summary>
    public static Tensor PerToken(Tensor logp, Tensor refLogp, KlEstimator estimator)
    {
        if (!logp.Shape.AsSpan().SequenceEqual(refLogp.Shape))
            throw new ArgumentException($"KlEstimators.PerToken: logp is {ResponseMask.ShapeText(logp)} but refLogp is {ResponseMask.ShapeText(refLogp)}");
        var d = refLogp.Sub(logp); // log r
        return estimator switch
        {
            KlEstimator.K1 => d.Neg(),
            KlEstimator.K2 => d.Mul(d).Mul(0.5f),
            KlEstimator.K3 => d.Exp().Sub(d).Sub(1f),
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "KlEstimators.PerToken: unknown estimator"),
        };
    }

    /// <summary>
    /// Each response's KL, Σ_t KL_t over its real tokens, in float64.
    /// logp [B, T], refLogp [B, T], responseMask [B, T] -> [B]
    /// </summary>
    public static Tensor PerSequence(Tensor logp, Tensor refLogp, Tensor responseMask, KlEstimator estimator)
    {
        ResponseMask.Lengths(responseMask, "KlEstimators.PerSequence");
        return Masked.RowSums(PerToken(logp.Double(), refLogp.Double(), estimator), responseMask);
    }
}
