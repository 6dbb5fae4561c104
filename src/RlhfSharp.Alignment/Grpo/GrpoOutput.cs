using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Grpo;

/// <summary>The result of <see cref="GrpoLoss.Compute"/>.</summary>
/// <param name="Loss">The aggregated loss, a scalar tensor [] connected to the policy log-probs.</param>
/// <param name="ClipFraction">
/// Fraction of response tokens where the clipped term is the active one, i.e. the ratio left
/// [1 − ε_low, 1 + ε_high] on the side the advantage pushes it (TRL GRPO's <c>clip_ratio</c>,
/// verl's <c>actor/pg_clipfrac</c>); always a token mean over the mask.
/// </param>
/// <param name="Kl">Mean estimate (k3 by default) of KL(π_θ ‖ π_ref) per response token (TRL GRPO's <c>kl</c>); always a token mean over the mask.</param>
public sealed record GrpoOutput(Tensor Loss, double ClipFraction, double Kl)
{
    /// <summary>Dual-clip only: fraction of response tokens where the −c·A bound is active (verl's <c>actor/pg_clipfrac_lower</c>); 0 otherwise.</summary>
    public double DualClipFraction { get; init; }

    /// <summary>The metrics under TRL GRPO's names.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        ["loss"] = Loss.Item(),
        ["clip_ratio"] = ClipFraction,
        ["kl"] = Kl,
    };
}
