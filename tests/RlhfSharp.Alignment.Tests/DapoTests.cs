using RlhfSharp.Alignment.Dapo;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

/// <summary>
/// DAPO (Yu et al. 2025): clip-higher is PPO-clip's ε_high (§3.1), token-level aggregation is
/// <see cref="LossAggregation.TokenMean"/> (§3.3, GrpoLossAggregationTests), and here the overlong
/// penalty (§3.4) and the dynamic-sampling filter (§3.2).
/// </summary>
public class DapoTests
{
    [Fact]
    public void ClipHigherWidensOnlyTheUpperSideOfPpoClip()
    {
        // ε_low = 0.2, ε_high = 0.28, logp_old = 0, one padded position (junk):
        //   A = +1, r = 1.25: −1.25 vs −clip(1.25, 0.8, 1.28) = −1.25 → −1.25 (inside; symmetric ε would give −1.2)
        //   A = +1, r = 1.4:  −1.4 vs −1.28 → −1.28 (clipped)
        //   A = −1, r = 0.75:  0.75 vs 0.8 → 0.8 (clipped: the lower side is unchanged)
        //   token mean (−1.25 − 1.28 + 0.8)/3 = −1.73/3 = −0.576667; clip fraction 2/3; gradient −A·r/3 = −0.416667 on the first only
        var logp = Tensor.FromArray([MathF.Log(1.25f), MathF.Log(1.4f), MathF.Log(0.75f), float.NegativeInfinity], 1, 4);
        logp.RequiresGrad = true;
        var old = Tensor.FromArray([0f, 0f, 0f, 4f], 1, 4);
        var adv = Tensor.FromArray(new double[] { 1, 1, -1, 9 }, 1, 4);
        var mask = Tensor.FromArray([1f, 1f, 1f, 0f], 1, 4);
        var output = PolicyLoss.PpoClip(logp, old, adv, mask, new PolicyLossSettings { ClipLow = 0.2, ClipHigh = 0.28 });
        Assert.Equal(-0.576667, output.Loss.Item(), 5);
        Assert.Equal(2.0 / 3, output.ClipFraction, 12);
        output.Loss.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(-0.416667, g[0], 5);
        Assert.Equal([0f, 0f, 0f], g[1..]);

        // symmetric ε = 0.2: the first two tokens clip at 1.2, (−1.2 − 1.2 + 0.8)/3 = −0.533333
        var symmetric = PolicyLoss.PpoClip(logp.Detach(), old, adv, mask, new PolicyLossSettings { ClipLow = 0.2 });
        Assert.Equal(-0.533333, symmetric.Loss.Item(), 5);
    }

    [Fact]
    public void OverlongPenaltyFollowsEquation13()
    {
        // L_max = 20, L_cache = 4: the band starts after L_max − L_cache = 16
        //   |y| = 10, 16 → 0;  17 → (16 − 17)/4 = −0.25;  18 → −0.5;  20 → (16 − 20)/4 = −1;  21 → −1
        Assert.Equal(0, OverlongPenalty.Of(0, 20, 4));
        Assert.Equal(0, OverlongPenalty.Of(10, 20, 4));
        Assert.Equal(0, OverlongPenalty.Of(16, 20, 4));
        Assert.Equal(-0.25, OverlongPenalty.Of(17, 20, 4));
        Assert.Equal(-0.5, OverlongPenalty.Of(18, 20, 4));
        Assert.Equal(-1, OverlongPenalty.Of(20, 20, 4));
        Assert.Equal(-1, OverlongPenalty.Of(21, 20, 4));
        // L_cache = L_max: the band is the whole range, |y| = 1 of 4 → (0 − 1)/4
        Assert.Equal(-0.25, OverlongPenalty.Of(1, 4, 4));
    }

    [Fact]
    public void OverlongPenaltyReadsLengthsFromARightPaddedMask()
    {
        // L_max = 4, L_cache = 2 (band after 2), T = 5: lengths 2 → 0, 3 → (2 − 3)/2 = −0.5, 4 → −1, 5 → −1, 0 → 0
        var mask = Tensor.FromArray(new float[,]
        {
            { 1, 1, 0, 0, 0 }, { 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 0 }, { 1, 1, 1, 1, 1 }, { 0, 0, 0, 0, 0 },
        });
        var penalties = OverlongPenalty.Compute(mask, maxLength: 4, cacheLength: 2);
        Assert.Equal(DType.Float64, penalties.Dtype);
        Assert.Equal([0, -0.5, -1, -1, 0], penalties.ToDoubleArray());
    }

    [Fact]
    public void OverlongPenaltyRejectsBadArguments()
    {
        Assert.Contains("L_cache", Assert.Throws<ArgumentOutOfRangeException>(() => OverlongPenalty.Of(3, 20, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OverlongPenalty.Of(3, 4, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => OverlongPenalty.Of(-1, 20, 4));
        Assert.Contains("right-padded", Assert.Throws<ArgumentException>(() => OverlongPenalty.Compute(Tensor.FromArray(new float[,] { { 1, 0, 1 } }), 4, 2)).Message);
        Assert.Throws<ArgumentException>(() => OverlongPenalty.Compute(Tensor.Ones(3), 4, 2));
    }

    [Fact]
    public void DynamicSamplingKeepsGroupsWhoseRewardsDiffer()
    {
        // G = 3: (1, 1, 1) all correct → drop; (0, 1, 0) → keep; (0, 0, 0) all wrong → drop; (0.5, 0.5, 0.25) → keep
        var rewards = Tensor.FromArray(new double[] { 1, 1, 1, 0, 1, 0, 0, 0, 0, 0.5, 0.5, 0.25 }, 12);
        var kept = DynamicSampling.KeptGroups(rewards, 3);
        Assert.Equal([1, 3], kept);
        // rows of groups 1 and 3: 3..5 and 9..11
        Assert.Equal([3, 4, 5, 9, 10, 11], DynamicSampling.Rows(kept, 3));
        Assert.Empty(DynamicSampling.KeptGroups(Tensor.FromArray([2f, 2f, 7f, 7f]), 2));
        Assert.Empty(DynamicSampling.Rows([], 3));
    }

    [Fact]
    public void DynamicSamplingRejectsBadArguments()
    {
        var rewards = Tensor.FromArray(new double[] { 1, 0, 1, double.NaN }, 4);
        Assert.Contains("reward 3", Assert.Throws<ArgumentException>(() => DynamicSampling.KeptGroups(rewards, 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicSampling.KeptGroups(Tensor.FromArray(new double[] { 1, 0 }, 2), 1));
        Assert.Throws<ArgumentException>(() => DynamicSampling.KeptGroups(Tensor.FromArray(new double[] { 1, 0, 1 }, 3), 2));
        Assert.Throws<ShapeMismatchException>(() => DynamicSampling.KeptGroups(Tensor.Zeros(2, 2), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicSampling.Rows([0, -1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicSampling.Rows([0], 0));
    }
}
