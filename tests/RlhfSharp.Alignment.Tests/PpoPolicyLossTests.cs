using RlhfSharp.Alignment.Kl;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class PpoPolicyLossTests
{
    // ε = 0.2, logp_old = 0, so ratio = e^logp. One response of 4 real tokens and one padded position
    // (logp = −∞, logp_old = 3, A = 5: junk that must not leak). loss_t = max(−A·ratio, −A·clip(ratio, 0.8, 1.2)).
    //   a) A = +1, logp = 0.1:  ratio 1.105171 (inside)  −1.105171 vs −1.105171 → −1.105171, unclipped, grad −A·ratio = −1.105171
    //   b) A = +1, logp = 0.5:  ratio 1.648721 (above)   −1.648721 vs −1.2      → −1.2, clipped, grad 0
    //   c) A = −1, logp = −0.5: ratio 0.606531 (below)    0.606531 vs  0.8      →  0.8, clipped, grad 0
    //   d) A = −1, logp = 0.5:  ratio 1.648721 (above)    1.648721 vs  1.2      →  1.648721, unclipped, grad −A·ratio = 1.648721
    // token mean = (−1.105171 − 1.2 + 0.8 + 1.648721)/4 = 0.143550/4 = 0.0358875; clip fraction 2/4;
    // gradients /4: −0.276293, 0, 0, 0.412180, 0 (padding).
    // approx KL (k2) = ½·(0.01 + 0.25 + 0.25 + 0.25)/4 = 0.095; ratio mean = 5.009144/4 = 1.252286, max 1.648721.
    private static readonly PolicyLossSettings Clip02 = new() { ClipLow = 0.2, ClipHigh = null, Aggregation = LossAggregation.TokenMean, ApproxKl = KlEstimator.K2 };

    private static (Tensor Logp, Tensor LogpOld, Tensor Advantages, Tensor Mask) FourCases()
    {
        var logp = Tensor.FromArray([0.1f, 0.5f, -0.5f, 0.5f, float.NegativeInfinity], 1, 5);
        logp.RequiresGrad = true;
        // Advantages are float64, as Gae and Whitening give them.
        return (logp, Tensor.FromArray([0f, 0f, 0f, 0f, 3f], 1, 5), Tensor.FromArray(new double[] { 1, 1, -1, -1, 5 }, 1, 5), Tensor.FromArray([1f, 1f, 1f, 1f, 0f], 1, 5));
    }

    [Fact]
    public void FourCasesMatchHandWorkedNumbers()
    {
        var (logp, logpOld, adv, mask) = FourCases();
        var result = PolicyLoss.PpoClip(logp, logpOld, adv, mask, Clip02);
        Assert.Equal(0.0358875, result.Loss.Item(), 5);
        Assert.Equal(0.5, result.ClipFraction, 12);
        Assert.Equal(0.095, result.ApproxKl, 6);
        Assert.Equal(1.252286, result.RatioMean, 5);
        Assert.Equal(1.648721, result.RatioMax, 5);
    }

    [Fact]
    public void PerTokenIsTheLossBeforeAggregation()
    {
        // The four per-token losses worked out above, 0 on padding; their token mean over the mask is Loss.
        var (logp, logpOld, adv, mask) = FourCases();
        var result = PolicyLoss.PpoClip(logp, logpOld, adv, mask, Clip02);
        Assert.Equal(new[] { 1, 5 }, result.PerToken.Shape);
        var perToken = result.PerToken.ToArray();
        Assert.Equal(-1.105171, perToken[0], 5);
        Assert.Equal(-1.2, perToken[1], 5);
        Assert.Equal(0.8, perToken[2], 5);
        Assert.Equal(1.648721, perToken[3], 5);
        Assert.Equal(0, perToken[4], 12);
        Assert.Equal(result.Loss.Item(), Masked.Mean(result.PerToken, mask).Item());
        Assert.Equal(0.0358875, Masked.Mean(result.PerToken.Double(), mask).ItemDouble(), 5);
    }

    [Fact]
    public void GradientIsMinusAdvantageTimesRatioOnlyWhereUnclipped()
    {
        var (logp, logpOld, adv, mask) = FourCases();
        PolicyLoss.PpoClip(logp, logpOld, adv, mask, Clip02).Loss.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(-0.276293, g[0], 5);
        Assert.Equal(0, g[1]);
        Assert.Equal(0, g[2]);
        Assert.Equal(0.412180, g[3], 5);
        Assert.Equal(0, g[4]);
    }

    [Fact]
    public void K3ApproxKlIsOptional()
    {
        // k3 with d = logp − logp_old: e^−d − 1 + d = 0.004837, 0.106531, 0.148721, 0.106531 → mean 0.366620/4 = 0.091655
        var (logp, logpOld, adv, mask) = FourCases();
        Assert.Equal(0.091655, PolicyLoss.PpoClip(logp, logpOld, adv, mask, Clip02 with { ApproxKl = KlEstimator.K3 }).ApproxKl, 5);
    }

    [Fact]
    public void IdenticalPoliciesAreANoOp()
    {
        // ratio ≡ 1: nothing clipped, KL 0, loss = mean(−A) = −(0.5 − 1 + 2)/3 = −0.5, gradient −A/3.
        var logp = Tensor.FromArray([-0.3f, -1.7f, -2.2f, -9f], 2, 2);
        logp.RequiresGrad = true;
        var logpOld = Tensor.FromArray([-0.3f, -1.7f, -2.2f, 4f], 2, 2);
        var adv = Tensor.FromArray([0.5f, -1f, 2f, 7f], 2, 2);
        var mask = Tensor.FromArray([1f, 1f, 1f, 0f], 2, 2);
        var result = PolicyLoss.PpoClip(logp, logpOld, adv, mask, new PolicyLossSettings());
        Assert.Equal(0, result.ClipFraction);
        Assert.Equal(0, result.ApproxKl);
        Assert.Equal(1, result.RatioMean);
        Assert.Equal(1, result.RatioMax);
        Assert.Equal(-0.5, result.Loss.Item(), 6);
        result.Loss.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(-0.5 / 3, g[0], 6);
        Assert.Equal(1.0 / 3, g[1], 6);
        Assert.Equal(-2.0 / 3, g[2], 6);
        Assert.Equal(0, g[3]);
    }

    [Fact]
    public void AggregationModesWeighTokensAndSequencesAsDocumented()
    {
        // loss rows (1, 2, 3) and (4, 5 | padding 100):
        //   token-mean          = 15/5            = 3
        //   seq-mean-token-mean = (6/3 + 9/2)/2   = (2 + 4.5)/2 = 3.25
        //   seq-mean-token-sum  = (6 + 9)/2       = 7.5
        var loss = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 100f], 2, 3);
        var mask = Tensor.FromArray([1f, 1f, 1f, 1f, 1f, 0f], 2, 3);
        Assert.Equal(3, LossAggregator.Aggregate(loss, mask, LossAggregation.TokenMean).Item(), 6);
        Assert.Equal(3.25, LossAggregator.Aggregate(loss, mask, LossAggregation.SeqMeanTokenMean).Item(), 6);
        Assert.Equal(7.5, LossAggregator.Aggregate(loss, mask, LossAggregation.SeqMeanTokenSum).Item(), 6);
    }

    [Fact]
    public void EntropyBonusIsMinusCoefTimesMeanEntropy()
    {
        // entropies (1, 2 | 3, padding 50): mean 2 → −0.01·2 = −0.02; gradient −0.01/3 per real token.
        var h = Tensor.FromArray([1f, 2f, 3f, 50f], 2, 2);
        h.RequiresGrad = true;
        var bonus = EntropyBonus.Compute(h, Tensor.FromArray([1f, 1f, 1f, 0f], 2, 2), coef: 0.01);
        Assert.Equal(2, bonus.Entropy.Item(), 6);
        Assert.Equal(-0.02, bonus.Loss.Item(), 6);
        bonus.Loss.Backward();
        Assert.Equal(-0.01 / 3, h.Grad!.ToArray()[0], 6);
        Assert.Equal(0, h.Grad!.ToArray()[3]);
    }
}
