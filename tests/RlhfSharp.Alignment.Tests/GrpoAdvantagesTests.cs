using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class GrpoAdvantagesTests
{
    // Two prompts, G = 3 samples each, contiguous: group 1 = (1, 2, 3), group 2 = (0, 0, 6).
    private static readonly double[] Scores = [1, 2, 3, 0, 0, 6];

    private static Tensor ScoresTensor() => Tensor.FromArray(Scores, Scores.Length);

    [Fact]
    public void GroupNormalisedAdvantagesMatchHandWorkedNumbers()
    {
        // group 1: mean 2, deviations (−1, 0, 1), unbiased std = √((1 + 0 + 1)/2) = 1
        //   A = (−1, 0, 1)/(1 + 1e-6) = (−0.999999, 0, 0.999999)
        // group 2: mean 2, deviations (−2, −2, 4), std = √((4 + 4 + 16)/2) = √12 = 3.464102
        //   A = (−2, −2, 4)/(3.464102 + 1e-6) = (−0.577350, −0.577350, 1.154700)
        var advantages = GroupAdvantages.Compute(ScoresTensor(), groupSize: 3);
        Assert.Equal(DType.Float64, advantages.Dtype);
        Assert.Equal([6], advantages.Shape);
        var a = advantages.ToDoubleArray();
        Assert.Equal(-1 / (1 + 1e-6), a[0], 12);
        Assert.Equal(0, a[1], 12);
        Assert.Equal(1 / (1 + 1e-6), a[2], 12);
        Assert.Equal(-2 / (Math.Sqrt(12) + 1e-6), a[3], 12);
        Assert.Equal(-2 / (Math.Sqrt(12) + 1e-6), a[4], 12);
        Assert.Equal(4 / (Math.Sqrt(12) + 1e-6), a[5], 12);
        Assert.Equal(-0.577350, a[3], 6);
        Assert.Equal(1.154700, a[5], 6);

        // float32 scores are widened exactly (whole numbers here), so they give the same doubles
        var t = GroupAdvantages.Compute(Tensor.FromArray([1f, 2f, 3f, 0f, 0f, 6f]), 3);
        Assert.Equal(DType.Float64, t.Dtype);
        Assert.Equal(a, t.ToDoubleArray());
    }

    [Fact]
    public void WithoutStdScalingAdvantagesAreCentredScores()
    {
        // Dr. GRPO: A = s − mean: (−1, 0, 1) and (−2, −2, 4)
        Assert.Equal([-1.0, 0, 1, -2, -2, 4], GroupAdvantages.Compute(ScoresTensor(), 3, scaleByStd: false).ToDoubleArray());
    }

    [Fact]
    public void ZeroVarianceGroupGivesZeroAdvantagesNotNaN()
    {
        // group (0.1, 0.1, 0.1): std 0, so (s − mean)/(0 + eps) would amplify rounding noise; it must be exactly 0
        double[] scores = [0.1, 0.1, 0.1, 1, 0, 1];
        foreach (var scale in new[] { true, false })
        {
            var a = GroupAdvantages.Compute(Tensor.FromArray(scores, scores.Length), 3, scaleByStd: scale).ToDoubleArray();
            Assert.Equal([0.0, 0, 0], a[..3]);
            Assert.All(a, v => Assert.True(double.IsFinite(v)));
        }
        Assert.Equal([0.0, 0.0], GroupAdvantages.Compute(Tensor.FromArray(new double[] { 5, 5 }, 2), 2, eps: 0).ToDoubleArray());
    }

    [Fact]
    public void AdvantagesBroadcastToResponseTokens()
    {
        // advantages (2, −1), mask [[0, 1, 1], [1, 1, 0]] -> [[0, 2, 2], [−1, −1, 0]]
        var mask = Tensor.FromArray([0f, 1f, 1f, 1f, 1f, 0f], 2, 3);
        var tokens = GroupAdvantages.ToTokens(Tensor.FromArray(new double[] { 2, -1 }, 2), mask);
        Assert.Equal([2, 3], tokens.Shape);
        Assert.Equal(DType.Float64, tokens.Dtype);
        Assert.Equal([0.0, 2, 2, -1, -1, 0], tokens.ToDoubleArray());
        // float32 advantages stay float32
        var floats = GroupAdvantages.ToTokens(Tensor.FromArray([2f, -1f]), mask);
        Assert.Equal(DType.Float32, floats.Dtype);
        Assert.Equal([0f, 2f, 2f, -1f, -1f, 0f], floats.ToArray());
    }

    [Fact]
    public void GroupAdvantagesBroadcastOverARightPaddedMask()
    {
        // Dr. GRPO advantages of group 1 (−1, 0, 1), mask [[1, 1, 0], [1, 0, 0], [1, 1, 1]]
        // -> [[−1, −1, 0], [0, 0, 0], [1, 1, 1]]: every real token gets its response's advantage, padding 0
        var a = GroupAdvantages.Compute(Tensor.FromArray(new double[] { 1, 2, 3 }, 3), 3, scaleByStd: false);
        var tokens = GroupAdvantages.ToTokens(a, Tensor.FromArray([1f, 1f, 0f, 1f, 0f, 0f, 1f, 1f, 1f], 3, 3));
        Assert.Equal([-1.0, -1, 0, 0, 0, 0, 1, 1, 1], tokens.ToDoubleArray());
    }

    [Fact]
    public void LeaveOneOutAdvantagesMatchHandWorkedNumbers()
    {
        // group 1: A_1 = 1 − (2 + 3)/2 = −1.5, A_2 = 2 − (1 + 3)/2 = 0, A_3 = 3 − (1 + 2)/2 = 1.5
        // group 2: A_1 = 0 − (0 + 6)/2 = −3,   A_2 = −3,               A_3 = 6 − (0 + 0)/2 = 6
        // (= G/(G−1)·(s − mean) = 1.5·(−1, 0, 1) and 1.5·(−2, −2, 4))
        var a = LeaveOneOutAdvantages.Compute(ScoresTensor(), 3);
        Assert.Equal(DType.Float64, a.Dtype);
        Assert.Equal([-1.5, 0, 1.5, -3, -3, 6], a.ToDoubleArray());
        Assert.Equal([-1.5, 0, 1.5, -3, -3, 6], LeaveOneOutAdvantages.Compute(Tensor.FromArray([1f, 2f, 3f, 0f, 0f, 6f]), 3).ToDoubleArray());
        // G = 2: A = ±(s_1 − s_2)
        Assert.Equal([2.0, -2], LeaveOneOutAdvantages.Compute(Tensor.FromArray(new double[] { 3, 1 }, 2), 2).ToDoubleArray());
    }

    [Fact]
    public void BadGroupingIsRejected()
    {
        Assert.Throws<ArgumentException>(() => GroupAdvantages.Compute(ScoresTensor(), 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupAdvantages.Compute(ScoresTensor(), 1));
        Assert.Throws<ArgumentException>(() => LeaveOneOutAdvantages.Compute(ScoresTensor(), 4));
        Assert.Throws<ShapeMismatchException>(() => GroupAdvantages.Compute(Tensor.FromArray(Scores, 2, 3), 3));
    }
}
