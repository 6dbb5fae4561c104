using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class GrpoLossAggregationTests
{
    // x = [[1, 2, 3], [4, 5, 6]], mask = [[1, 1, 0], [1, 0, 0]]: kept tokens 1, 2 | 4
    private static readonly float[] X = [1, 2, 3, 4, 5, 6];
    private static readonly float[] M = [1, 1, 0, 1, 0, 0];

    /// <summary>
    /// Aggregates X under <paramref name="mask"/> twice: as float64 tensors (computed exactly in
    /// float64, so the result is the plain double arithmetic the hand numbers check to 12 digits) and
    /// as float32 tensors (the differentiable path losses take). The float32 result is a handful of
    /// sums and one division of small whole numbers, each rounded to 2⁻²⁴ ≈ 6e-8 relative, so it
    /// agrees with the float64 one to 1e-6 relative; the float64 result is returned.
    /// </summary>
    private static double Both(float[] mask, LossAggregation mode)
    {
        var exact = LossAggregator.Aggregate(Tensor.FromArray(Array.ConvertAll(X, v => (double)v), 2, 3), Tensor.FromArray(mask, 2, 3), mode);
        Assert.Equal(DType.Float64, exact.Dtype);
        Assert.Empty(exact.Shape);
        double plain = exact.ItemDouble();
        var tensor = LossAggregator.Aggregate(Tensor.FromArray(X, 2, 3), Tensor.FromArray(mask, 2, 3), mode);
        Assert.Equal(DType.Float32, tensor.Dtype);
        Assert.True(Math.Abs(tensor.Item() - plain) <= 1e-6 * Math.Max(Math.Abs(plain), 1), $"float32 {tensor.Item()} vs float64 {plain}");
        return plain;
    }

    [Fact]
    public void ModesMatchHandWorkedNumbers()
    {
        // token-mean:          (1 + 2 + 4) / 3 = 2.333333
        // seq-mean-token-mean: ((1 + 2)/2 + 4/1) / 2 = (1.5 + 4)/2 = 2.75
        // seq-mean-token-sum:  ((1 + 2) + 4) / 2 = 3.5
        Assert.Equal(7.0 / 3, Both(M, LossAggregation.TokenMean), 12);
        Assert.Equal(2.75, Both(M, LossAggregation.SeqMeanTokenMean), 12);
        Assert.Equal(3.5, Both(M, LossAggregation.SeqMeanTokenSum), 12);
    }

    [Fact]
    public void EmptyRowsAndEmptyMasksGiveNoNaN()
    {
        // row 1 empty: token-mean (1 + 2)/2 = 1.5; seq-mean-token-mean (1.5 + 0)/2 = 0.75 (the empty row counts as 0)
        float[] oneRow = [1, 1, 0, 0, 0, 0];
        Assert.Equal(1.5, Both(oneRow, LossAggregation.TokenMean), 12);
        Assert.Equal(0.75, Both(oneRow, LossAggregation.SeqMeanTokenMean), 12);
        float[] none = [0, 0, 0, 0, 0, 0];
        Assert.Equal(0, Both(none, LossAggregation.TokenMean), 12);
        Assert.Equal(0, Both(none, LossAggregation.SeqMeanTokenMean), 12);
    }

    [Fact]
    public void TokenMeanGradientIsMaskOverCount()
    {
        // ∂/∂x of Σ x·m / Σ m = m / 3 with 3 kept tokens
        var x = Tensor.FromArray(X, 2, 3);
        x.RequiresGrad = true;
        LossAggregator.Aggregate(x, Tensor.FromArray(M, 2, 3), LossAggregation.TokenMean).Backward();
        var g = x.Grad!.ToArray();
        for (int i = 0; i < g.Length; i++)
            Assert.Equal(M[i] / 3, g[i], 6);
    }

    [Fact]
    public void PaddingHoldingNaNOrInfinityReachesNeitherLossNorGradient()
    {
        // the masked-out positions of X replaced by NaN and ±∞: every mode gives the same numbers as above
        float[] dirty = [1, 2, float.NaN, 4, float.NegativeInfinity, float.PositiveInfinity];
        foreach (var (mode, want) in new[] { (LossAggregation.TokenMean, 7.0 / 3), (LossAggregation.SeqMeanTokenMean, 2.75), (LossAggregation.SeqMeanTokenSum, 3.5) })
        {
            var x = Tensor.FromArray(dirty, 2, 3);
            x.RequiresGrad = true;
            var loss = LossAggregator.Aggregate(x, Tensor.FromArray(M, 2, 3), mode);
            Assert.Equal(want, loss.Item(), 5);
            loss.Backward();
            var g = x.Grad!.ToArray();
            Assert.All(g, v => Assert.True(float.IsFinite(v)));
            Assert.Equal([0f, 0f, 0f], new[] { g[2], g[4], g[5] });
        }
    }

    [Fact]
    public void ShapeMismatchIsRejected()
    {
        Assert.Throws<ShapeMismatchException>(() => LossAggregator.Aggregate(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2), LossAggregation.TokenMean));
    }
}
