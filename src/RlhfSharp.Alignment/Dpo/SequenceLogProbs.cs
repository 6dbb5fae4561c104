using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dpo;

/// <summary>
/// Whole-response log-probs log π(y|x) from a causal LM's logits, the inputs of <see cref="DpoLoss"/>.
/// Token-aligned convention of the data layer: ids[b, t] and mask[b, t] describe token t, and the
/// logits at position t predict token t + 1, so the log-prob of token t (t ≥ 1) is
/// TokenLogProbs(logits[:, t − 1], ids[:, t]), kept where mask[:, t] = 1. Token 0 has no prediction
/// and is never counted.
/// </summary>
public static class SequenceLogProbs
{
    /// <summary>
    /// Σ_{t ≥ 1} log softmax(logits[:, t−1])[ids[:, t]] · mask[:, t].
    /// logits [B, T, V], ids int32 [B, T], responseMask [B, T] (1 on response tokens; 0 on prompt and padding) -> [B]
    /// </summary>
    public static Tensor Sum(Tensor logits, Tensor ids, Tensor responseMask)
    {
        var (perToken, mask) = MaskedTokenLogProbs(logits, ids, responseMask);
        return perToken.Sum(1);
    }

    /// <summary>
    /// The length-normalised variant: the sum above divided by the number of counted tokens
    /// Σ_{t ≥ 1} mask[:, t] (clamped to at least 1, so an empty response gives 0). TRL uses it for IPO.
    /// logits [B, T, V], ids int32 [B, T], responseMask [B, T] -> [B]
    /// </summary>
    public static Tensor Mean(Tensor logits, Tensor ids, Tensor responseMask)
    {
        var (perToken, mask) = MaskedTokenLogProbs(logits, ids, responseMask);
        return perToken.Sum(1).Div(mask.Sum(1).Clamp(min: 1f));
    }

    // -> (masked per-token log-probs [B, T−1], shifted mask [B, T−1])
    private static (Tensor PerToken, Tensor Mask) MaskedTokenLogProbs(Tensor logits, Tensor ids, Tensor responseMask)
    {
        if (logits.Rank != 3 || ids.Rank != 2 || logits.Size(0) != ids.Size(0) || logits.Size(1) != ids.Size(1)
            || !ids.Shape.AsSpan().SequenceEqual(responseMask.Shape))
        {
            throw new ShapeMismatchException("SequenceLogProbs", $"expected logits [B, T, V], ids [B, T] and mask [B, T]; got [{string.Join(", ", logits.Shape)}], [{string.Join(", ", ids.Shape)}] and [{string.Join(", ", responseMask.Shape)}]");
        }
        int t = ids.Size(1);
        if (t < 2)
            throw new ShapeMismatchException("SequenceLogProbs", $"need at least 2 positions (a token and the one that predicts it), got T = {t}");
        var predicting = logits.Slice(1, 0, t - 1);           // [B, T−1, V]: positions 0 .. T−2
        var targets = ids.Slice(1, 1, t).Contiguous();         // [B, T−1]: tokens 1 .. T−1
        var mask = responseMask.Float().Detach().Slice(1, 1, t); // [B, T−1]
        return (F.TokenLogProbs(predicting, targets).Mul(mask), mask);
    }
}
