using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Gspo;

/// <summary>
/// Group Sequence Policy Optimization (Zheng et al. 2025, GSPO), as a loss to minimise (registered
/// as <c>gspo</c>): a sequence-level importance ratio s_i = exp((1/|y_i|)·Σ_t (logπ − logπ_old)),
/// clipped per sequence, loss = (1/B)·Σ_i −min(s_i·A_i, clip(s_i, 1 − ε, 1 + ε_high)·A_i).
/// Written in the paper's GSPO-token form, s_{i,t} = sg[s_i]·π(y_t)/sg[π(y_t)]: every token of a
/// sequence shares the ratio's value, and with one advantage per sequence the gradient is the
/// sequence-level one, ∂s_i/∂logp_t = s_i/|y_i|. Sequences are averaged (each token's loss is
/// averaged within its sequence, then sequences are averaged) whatever
/// <see cref="PolicyLossSettings.Aggregation"/> says. The clip range is ε =
/// <see cref="PolicyLossSettings.ClipLow"/> and ε_high; the paper uses small values (3e-4, 4e-4),
/// as a ratio of a whole sequence moves far less than a token's.
/// </summary>
public static class GspoLoss
{
    /// <summary>
    /// logp [B, T] (with grad), oldLogp [B, T], advantages [B, T] (constant; per token, normally one
    /// value per row), responseMask [B, T] -> <see cref="PolicyLossOutput"/> (Loss []). ClipFraction
    /// is over real tokens; RatioMean and RatioMax are those of s_i over real tokens.
    /// </summary>
    public static PolicyLossOutput Compute(Tensor logp, Tensor oldLogp, Tensor advantages, Tensor responseMask, PolicyLossSettings settings)
    {
        const string Caller = "GspoLoss.Compute";
        ResponseMask.CheckShape(logp, responseMask, Caller, "logp");
        ResponseMask.CheckShape(oldLogp, responseMask, Caller, "oldLogp");
        ResponseMask.CheckShape(advantages, responseMask, Caller, "advantages");
        double low = settings.ClipLow, high = settings.ClipHigh ?? settings.ClipLow;
        if (!(low >= 0 && low < 1) || !(high >= 0))
            throw new ArgumentOutOfRangeException(nameof(settings), $"{Caller}: the clip range ε ({low}) must lie in [0, 1) and ε_high ({high}) be >= 0");
        var lengths = ResponseMask.Lengths(responseMask, Caller);
        var rowLengths = new double[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
            rowLengths[b] = Math.Max(lengths[b], 1); // an empty row has log s = 0/1 = 0

        // Padding may hold −∞ or NaN: zeroed before any arithmetic, so it reaches neither value nor gradient.
        var lp = Masked.Zeroed(logp, responseMask);                                     // [B, T]
        var logRatio = lp.Sub(Masked.Zeroed(oldLogp.Detach(), responseMask));           // [B, T]
        var lengthsTensor = Tensor.FromArray(rowLengths, lengths.Length);
        var seqLogRatio = logRatio.Detach().Double().Sum(1).Div(lengthsTensor);         // [B]: log s_i, float64 and constant
        if (logp.Dtype != DType.Float64)
            seqLogRatio = seqLogRatio.Float();
        // GSPO-token: log s_{i,t} = logp_t − sg(logp_t) + sg(log s_i): value log s_i, gradient 1 w.r.t. logp_t
        var logTokenRatio = lp.Sub(lp.Detach()).Add(seqLogRatio.Unsqueeze(1));          // [B, T]
        var ratio = logTokenRatio.Exp();                                                // [B, T]
        var negAdv = Masked.Zeroed(advantages.Detach().Float(), responseMask).Neg();
        var unclipped = negAdv.Mul(ratio);
        var clipped = negAdv.Mul(ratio.Clamp((double?)(1 - low), (double?)(1 + high)));
        var perToken = Masked.Zeroed(unclipped.Maximum(clipped), responseMask);
        var loss = LossAggregator.Aggregate(perToken, responseMask, LossAggregation.SeqMeanTokenMean);

        var lr = logRatio.Detach().Double();
        double approxKl = Masked.Mean(KlEstimators.PerToken(lr, lr.Mul(0f), settings.ApproxKl), responseMask).ItemDouble();
        var ratios = ratio.Detach().Double();
        return new PolicyLossOutput(
            loss, perToken, Masked.FractionGreater(clipped, unclipped, responseMask), approxKl,
            Masked.Mean(ratios, responseMask).ItemDouble(), Masked.Max(ratios, responseMask));
    }
}
