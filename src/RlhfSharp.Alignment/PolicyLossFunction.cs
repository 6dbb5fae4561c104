using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment;

/// <summary>The settings a policy loss reads (a loss ignores those it has no use for).</summary>
public sealed record PolicyLossSettings
{
    /// <summary>Lower clip ε of the ratio.</summary>
    public double ClipLow { get; init; } = 0.2;

    /// <summary>Upper clip ε_high (null: ε; larger is DAPO's clip-higher, Yu et al. 2025).</summary>
    public double? ClipHigh { get; init; }

    /// <summary>Dual-clip PPO's bound c &gt; 1 on the loss of a negative-advantage token, −c·A (Ye et al. 2020).</summary>
    public double DualClipC { get; init; } = 3;

    /// <summary>How per-token losses become one number.</summary>
    public LossAggregation Aggregation { get; init; } = LossAggregation.TokenMean;

    /// <summary>The estimator of KL(π_old ‖ π) logged as approx KL: k2 as TRL's approxkl, k3 as verl's.</summary>
    public KlEstimator ApproxKl { get; init; } = KlEstimator.K2;
}

/// <summary>A policy loss and the metrics logged with it.</summary>
/// <param name="Loss">The aggregated loss [], differentiable w.r.t. logp.</param>
/// <param name="PerToken">The loss of each token [B, T] before aggregation (a KL term in the loss is added here).</param>
/// <param name="ClipFraction">Fraction of real tokens where the clipped branch is the active one (policy/clipfrac, clip_ratio).</param>
/// <param name="ApproxKl">Mean over real tokens of the chosen estimate of KL(π_old ‖ π) (policy/approxkl).</param>
/// <param name="RatioMean">Mean of π/π_old over real tokens.</param>
/// <param name="RatioMax">Largest π/π_old over real tokens.</param>
public sealed record PolicyLossOutput(Tensor Loss, Tensor PerToken, double ClipFraction, double ApproxKl, double RatioMean, double RatioMax)
{
    /// <summary>Dual-clip only: fraction of real tokens where the −c·A bound is the active one (verl's pg_clipfrac_lower); 0 for other losses.</summary>
    public double DualClipFraction { get; init; }
}

/// <summary>
/// A policy loss: logp [B, T] (current policy, with grad), oldLogp [B, T] (the policy that
/// sampled), advantages [B, T] (constant), responseMask [B, T] -> <see cref="PolicyLossOutput"/>.
/// </summary>
public delegate PolicyLossOutput PolicyLossFunction(Tensor logp, Tensor oldLogp, Tensor advantages, Tensor responseMask, PolicyLossSettings settings);
