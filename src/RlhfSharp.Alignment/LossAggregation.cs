using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment;

/// <summary>
/// How a per-token loss [B, T] is reduced to a scalar over the tokens a mask keeps
/// (the <c>loss_agg_mode</c> names of verl's <c>core_algos.agg_loss</c>).
/// </summary>
public enum LossAggregation
{
    /// <summary>
    /// <c>token-mean</c>: Σ_{b,t} x·m / Σ_{b,t} m. Every kept token in the batch weighs the same, so
    /// long responses weigh more than short ones (DAPO, Yu et al. 2025, §3.3; TRL GRPO's default).
    /// </summary>
    TokenMean,

    /// <summary>
    /// <c>seq-mean-token-mean</c>: (1/B) Σ_b (Σ_t x·m / Σ_t m). Each sequence's tokens are averaged
    /// first, then sequences are averaged, so every sequence weighs the same whatever its length
    /// (the GRPO objective as written in Shao et al. 2024, eq. 3).
    /// </summary>
    SeqMeanTokenMean,

    /// <summary>
    /// <c>seq-mean-token-sum</c>: (1/B) Σ_b Σ_t x·m. Tokens are summed per sequence (no length
    /// normalisation, as Dr. GRPO argues for, Liu et al. 2025, §3.1), then sequences are averaged.
    /// </summary>
    SeqMeanTokenSum,
}

/// <summary>The reductions named by <see cref="LossAggregation"/>.</summary>
public static class LossAggregator
{
    /// <summary>
    /// Reduces a masked per-token quantity to a scalar.
    /// perToken [B, T], mask [B, T] (1 = token counts, 0 = prompt or padding; float or int32) -> []
    /// A batch or a sequence whose mask is all zero contributes 0 rather than NaN (the denominators
    /// are clamped to at least 1); such a sequence still counts in the 1/B of the sequence means.
    /// </summary>
    public static Tensor Aggregate(Tensor perToken, Tensor mask, LossAggregation mode)
    {
        if (perToken.Rank != 2 || !perToken.Shape.AsSpan().SequenceEqual(mask.Shape))
            throw new ShapeMismatchException("Aggregate", $"perToken [{string.Join(", ", perToken.Shape)}] and mask [{string.Join(", ", mask.Shape)}] must both be [B, T]");
        var m = mask.Float().Detach();
        // Zeroed rather than multiplied: padding may hold −∞ or NaN (log-probs of pad tokens).
        var masked = Masked.Zeroed(perToken, m);
        switch (mode)
        {
            case LossAggregation.TokenMean:
                return masked.Sum().Div(Math.Max(m.Sum().Item(), 1f));
            case LossAggregation.SeqMeanTokenMean:
                // per row: Σ_t x·m / max(Σ_t m, 1) -> [B], then the mean over B
                return masked.Sum(1).Div(m.Sum(1).Clamp(min: 1f)).Mean();
            case LossAggregation.SeqMeanTokenSum:
                return masked.Sum(1).Mean();
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown loss aggregation mode");
        }
    }
}
