using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment;

/// <summary>
/// Reductions over the real tokens of right-padded responses only (TRL's <c>masked_mean</c>,
/// <c>masked_var</c>). Every argument named mask is [B, T] with 1 for a real response token and 0
/// for padding; padded values, whatever they hold (NaN included), never reach the result. On
/// float32 inputs the results are differentiable; on float64 inputs they are exact float64 sums in
/// row-major order.
/// </summary>
public static class Masked
{
    /// <summary>x where mask is 1, 0 where it is 0; no gradient reaches padding. [B, T] -> [B, T]</summary>
    public static Tensor Zeroed(Tensor x, Tensor mask) => Tensor.Where(mask, x, Tensor.Scalar(0f));

    /// <summary>Mean over real tokens. x [B, T], mask [B, T] -> []</summary>
    public static Tensor Mean(Tensor x, Tensor mask)
    {
        ResponseMask.CheckShape(x, mask, "Masked.Mean", "x");
        double count = Count(mask);
        if (count == 0)
            throw new ArgumentException("Masked.Mean: the response mask has no real tokens");
        return Zeroed(x, mask).Sum().Div(count);
    }

    /// <summary>
    /// Variance over real tokens around their mean; unbiased (divides by n − 1, Bessel) by default
    /// as TRL's <c>masked_var</c>, else by n. x [B, T], mask [B, T] -> []; NaN when n − 1 (or n) is 0.
    /// </summary>
    public static Tensor Variance(Tensor x, Tensor mask, bool unbiased = true)
    {
        ResponseMask.CheckShape(x, mask, "Masked.Variance", "x");
        double denominator = Count(mask) - (unbiased ? 1 : 0);
        if (denominator <= 0) // too few real tokens: NaN, in the input's kind of number
            return x.Dtype == DType.Float64 ? Tensor.FromArray([double.NaN], 1).Sum() : Tensor.Scalar(float.NaN);
        var deviation = Zeroed(x.Sub(Mean(x, mask)), mask);
        return deviation.Mul(deviation).Sum().Div(denominator);
    }

    /// <summary>Σ_t x·m per row (a response's total, e.g. its sequence KL). x [B, T], mask [B, T] -> [B]</summary>
    public static Tensor RowSums(Tensor x, Tensor mask)
    {
        ResponseMask.CheckShape(x, mask, "Masked.RowSums", "x");
        return Zeroed(x, mask).Sum(1);
    }

    /// <summary>The number of real tokens, exact at any size. mask [B, T] -> scalar</summary>
    public static double Count(Tensor mask) => mask.ToDoubleArray().Sum();

    /// <summary>Fraction of real tokens where a &gt; b (where a clipped branch is the active one). a, b, mask [B, T] -> scalar</summary>
    public static double FractionGreater(Tensor a, Tensor b, Tensor mask)
    {
        ResponseMask.CheckShape(a, mask, "Masked.FractionGreater", "a");
        ResponseMask.CheckShape(b, mask, "Masked.FractionGreater", "b");
        var (x, y, m) = (a.ToDoubleArray(), b.ToDoubleArray(), mask.ToDoubleArray());
        int count = 0, greater = 0;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] == 0)
                continue;
            count++;
            if (x[i] > y[i])
                greater++;
        }
        return (double)greater / count;
    }

    /// <summary>The largest value over real tokens, in float64. x [B, T], mask [B, T] -> scalar (−∞ without real tokens)</summary>
    public static double Max(Tensor x, Tensor mask)
    {
        ResponseMask.CheckShape(x, mask, "Masked.Max", "x");
        var (v, m) = (x.ToDoubleArray(), mask.ToDoubleArray());
        double max = double.NegativeInfinity;
        for (int i = 0; i < m.Length; i++)
            if (m[i] != 0)
                max = Math.Max(max, v[i]);
        return max;
    }
}
