using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>How a per-token loss [B, T] becomes one number (verl's <c>loss_agg_mode</c>).</summary>
public enum LossAggregation
{
    /// <summary>Mean over every real token of the batch: each token weighs the same (default).</summary>
    TokenMean,

    /// <summary>Mean over each response's real tokens, then mean over responses: each response weighs the same.</summary>
    SeqMeanTokenMean,

    /// <summary>Sum over each response's real tokens, then mean over responses (longer responses weigh more).</summary>
    SeqMeanTokenSum,
}

/// <summary>Applies a <see cref="LossAggregation"/> over the real tokens of a batch.</summary>
public static class LossAggregator
{
    /// <summary>
    /// Differentiable reduction; padding never contributes (nor gets gradient), and for the seq
    /// modes responses without real tokens are left out of the mean over responses.
    /// loss [B, T] (per token), mask [B, T] (1 real token, 0 padding) -> []
    /// </summary>
    public static Tensor Aggregate(Tensor loss, Tensor mask, LossAggregation mode)
    {
        ResponseMask.CheckShape(loss, mask, "LossAggregator.Aggregate", "loss");
        if (mode == LossAggregation.TokenMean)
            return Masked.Mean(loss, mask);
        var lengths = ResponseMask.Lengths(ResponseMask.ToGrid(mask), "LossAggregator.Aggregate");
        int nonEmpty = lengths.Count(n => n > 0);
        if (nonEmpty == 0)
            throw new ArgumentException("LossAggregator.Aggregate: the response mask has no real tokens");
        // Weight of each response's token sum: 1/length (token mean) or 1 (token sum); 0 when empty.
        var weights = lengths.Select(n => n == 0 ? 0f : mode switch
        {
            LossAggregation.SeqMeanTokenMean => 1f / n,
            LossAggregation.SeqMeanTokenSum => 1f,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "LossAggregator.Aggregate: unknown aggregation mode"),
        }).ToArray();
        var perSequence = Masked.Zeroed(loss, mask).Sum(1); // [B]
        return perSequence.Mul(Tensor.FromArray(weights)).Sum().Div(nonEmpty);
    }
}
