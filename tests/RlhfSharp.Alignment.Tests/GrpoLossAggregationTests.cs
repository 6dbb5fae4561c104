using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class GrpoLossAggregationTests
{
    // x = [[1, 2, 3], [4, 5, 6]], mask = [[1, 1, 0], [1, 0, 0]]: kept tokens 1, 2 | 4
    private static readonly float[] X = [1, 2, 3, 4, 5, 6];
    private static readonly float[] M = [1, 1, 0, 1, 0, 0];

    private static double Both(float[] mask, LossAggregation mode)
    {
        double plain = LossAggregator.Aggregate(Array.ConvertAll(X, v => (double)v), Array.ConvertAll(mask, v => (double)v), 3, mode);
        float tensor = LossAggregator.Aggregate(Tensor.FromArray(X, 2, 3), Tensor.FromArray(mask, 2, 3), mode).Item();
        Assert.Equal(plain, tensor, 5);
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
    public void ShapeMismatchIsRejected()
    {
        Assert.Throws<ShapeMismatchException>(() => LossAggregator.Aggregate(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2), LossAggregation.TokenMean));
    }
}
