using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment;

/// <summary>
/// Reductions over the real tokens of right-padded responses only (TRL's <c>masked_mean</c>,
/// <c>masked_var</c>). Every argument named mask is [B, T] with 1 for a real response token and 0
/// for padding; padded values, whatever they hold (NaN included), never reach the result.
/// </summary>
public static class Masked
{
    /// <summary>Mean over real tokens, differentiable. x [B, T], mask [B, T] -> []</summary>
    public static Tensor Mean(Tensor x, Tensor mask)
    {
        ResponseMask.CheckShape(x, mask, "Masked.Mean", "x");
        float count = mask.Sum().Item();
        if (count == 0)
            throw new ArgumentException("Masked.Mean: the response mask has no real tokens");
        return Zeroed(x, mask).Sum().Div(count);
    }

    /// <summary>x where mask is 1, 0 where it is 0; no gradient reaches padding. [B, T] -> [B, T]</summary>
    public static Tensor Zeroed(Tensor x, Tensor mask) => Tensor.Where(mask, x, Tensor.Scalar(0f));

    /// <summary>Mean over real tokens. x [B, T], mask [B, T] -> scalar (NaN when there are none).</summary>
    public static double Mean(double[,] x, double[,] mask)
    {
        ResponseMask.CheckShape(x, mask, "Masked.Mean", "x");
        double sum = 0, count = 0;
        for (int b = 0; b < x.GetLength(0); b++)
            for (int t = 0; t < x.GetLength(1); t++)
                if (mask[b, t] != 0)
                {
                    sum += x[b, t];
                    count++;
                }
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>
    /// Variance over real tokens around their mean; unbiased (divides by n − 1, Bessel) by
    /// default as TRL's <c>masked_var</c>, else by n. x [B, T], mask [B, T] -> scalar
    /// </summary>
    public static double Variance(double[,] x, double[,] mask, bool unbiased = true)
    {
        double mean = Mean(x, mask);
        double sum = 0, count = 0;
        for (int b = 0; b < x.GetLength(0); b++)
            for (int t = 0; t < x.GetLength(1); t++)
                if (mask[b, t] != 0)
                {
                    double d = x[b, t] - mean;
                    sum += d * d;
                    count++;
                }
        double denominator = unbiased ? count - 1 : count;
        return denominator <= 0 ? double.NaN : sum / denominator;
    }
}
