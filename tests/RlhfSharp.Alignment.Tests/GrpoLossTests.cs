using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class GrpoLossTests
{
    // B = 2, T = 3, ε = 0.2, β = 0.1. old log-probs are −1 everywhere; logp = −1 + ln r; ref = logp + d.
    //   token      ratio r  A   d = ref − logp  −r·A   −clip(r)·A   max (policy loss)   clipped?  k3 = e^d − d − 1
    //   (0, 0)     1.1      1   0               −1.1   −1.1         −1.1                no        0
    //   (0, 1)     1.5      1   ln 2            −1.5   −1.2         −1.2                yes       2 − ln 2 − 1 = 0.306853
    //   (0, 2)     padding (mask 0): r = 3, d = ln 2, ignored
    //   (1, 0)     0.5      1   0               −0.5   −0.8         −0.5                no        0
    //   (1, 1)     0.5     −1   −ln 2           0.5    0.8          0.8                 yes       ½ + ln 2 − 1 = 0.193147
    //   (1, 2)     1.5     −1   0               1.5    1.2          1.5                 no        0
    // Per token L = policy loss + 0.1·k3: row 0 (−1.1, −1.169315), row 1 (−0.5, 0.819315, 1.5).
    private static readonly float[] Ratios = [1.1f, 1.5f, 3f, 0.5f, 0.5f, 1.5f];
    private static readonly float[] D = [0f, MathF.Log(2f), MathF.Log(2f), 0f, -MathF.Log(2f), 0f];
    private static readonly float[] Advantages = [1f, 1f, 1f, 1f, -1f, -1f];
    private static readonly Tensor Mask = Tensor.FromArray([1f, 1f, 0f, 1f, 1f, 1f], 2, 3);

    // Losses are float32 (ratios of a few units, each op rounded to 2⁻²⁴ relative), so they are
    // checked to 5 decimals; clip fractions are counts over 5 tokens, exact in double.
    private static readonly PolicyLossSettings Clip02 = new() { ClipLow = 0.2 };

    private static Tensor TokenAdvantages() => Tensor.FromArray(Advantages, 2, 3);

    private static (Tensor LogProbs, Tensor Old, Tensor Ref) Inputs()
    {
        var logp = Ratios.Select(r => -1f + MathF.Log(r)).ToArray();
        var reference = logp.Select((v, i) => v + D[i]).ToArray();
        var lp = Tensor.FromArray(logp, 2, 3);
        lp.RequiresGrad = true;
        return (lp, Tensor.Full(-1f, 2, 3), Tensor.FromArray(reference, 2, 3));
    }

    [Fact]
    public void TokenMeanLossClipFractionAndKlMatchHandWorkedNumbers()
    {
        // token-mean: (−1.1 − 1.169315 − 0.5 + 0.819315 + 1.5) / 5 = −0.45 / 5 = −0.09
        //   (the KL terms add 0.1·(0.306853 + 0.193147) = 0.1·0.5 = 0.05 to the policy sum −0.5)
        // clip fraction 2/5 = 0.4; mean KL 0.5/5 = 0.1
        var (lp, old, reference) = Inputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, beta: 0.1);
        Assert.Equal(-0.09, output.Loss.Item(), 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        Assert.Equal(0.1, output.Kl, 5);
        Assert.Equal(new[] { "loss", "clip_ratio", "kl" }, output.ToMetrics().Keys);
    }

    [Fact]
    public void SeqMeanTokenMeanAveragesEachResponseFirst()
    {
        // row 0: (−1.1 − 1.169315)/2 = −1.134657; row 1: (−0.5 + 0.819315 + 1.5)/3 = 0.606438
        // loss = (−1.134657 + 0.606438)/2 = −0.264110; the metrics stay token means
        var (lp, old, reference) = Inputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02 with { Aggregation = LossAggregation.SeqMeanTokenMean }, 0.1);
        Assert.Equal(-0.264110, output.Loss.Item(), 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        Assert.Equal(0.1, output.Kl, 5);
    }

    [Fact]
    public void GradientFollowsTheActiveTermOfEachToken()
    {
        // token-mean over 5 tokens; ∂(−r·A)/∂logp = −r·A (since ∂r/∂logp = r); a clipped token's
        // policy term is constant in logp; ∂k3/∂logp = 1 − e^d.
        //   (0, 0): −1.1·1/5 = −0.22            (inside the clip range, d = 0)
        //   (0, 1): 0.1·(1 − 2)/5 = −0.02       (clipped: only the KL term, d = ln 2)
        //   (0, 2): 0                           (padding)
        //   (1, 0): −0.5·1/5 = −0.1
        //   (1, 1): 0.1·(1 − ½)/5 = 0.01        (clipped, d = −ln 2)
        //   (1, 2): 1.5/5 = 0.3
        var (lp, old, reference) = Inputs();
        GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, 0.1).Loss.Backward();
        var g = lp.Grad!.ToArray();
        double[] want = [-0.22, -0.02, 0, -0.1, 0.01, 0.3];
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], g[i], 5);
    }

    [Fact]
    public void OnPolicyWithoutKlIsMinusTheMeanAdvantage()
    {
        // logp = old (r = 1, nothing clipped), β = 0: L_t = −A_t; one advantage per response [B] is
        // broadcast over its tokens: row 0 A = 2 on 2 tokens, row 1 A = −1 on 3 tokens:
        // token-mean = −(2 + 2 − 1 − 1 − 1)/5 = −0.2
        var lp = Tensor.Full(-0.7f, 2, 3);
        var advantages = GroupAdvantages.ToTokens(Tensor.FromArray(new double[] { 2, -1 }, 2), Mask);
        var output = GrpoLoss.Compute(lp, lp, lp, advantages, Mask, Clip02, beta: 0);
        Assert.Equal(-0.2, output.Loss.Item(), 6);
        Assert.Equal(0, output.ClipFraction, 12);
        Assert.Equal(0, output.Kl, 6);
    }

    [Fact]
    public void ClipHigherWidensOnlyTheUpperSide()
    {
        // ε_low = 0.2, ε_high = 0.6: token (0, 1) with r = 1.5, A = 1 is now inside: −1.5 instead of −1.2;
        // token (1, 1) with r = 0.5, A = −1 is still clipped at 0.8.
        // token-mean = (−1.1 − 1.5 − 0.5 + 0.8 + 1.5)/5 = −0.8/5 = −0.16 (β = 0); clip fraction 1/5
        var (lp, old, reference) = Inputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02 with { ClipHigh = 0.6 }, beta: 0);
        Assert.Equal(-0.16, output.Loss.Item(), 5);
        Assert.Equal(0.2, output.ClipFraction, 12);
    }

    [Fact]
    public void K1EstimatorAddsTheSignedLogRatio()
    {
        // k1 = logp − ref = −d: 0, −ln 2, 0, ln 2, 0 on the real tokens, summing to 0, so the KL term adds
        // nothing: token-mean = (−1.1 − 1.2 − 0.5 + 0.8 + 1.5)/5 = −0.5/5 = −0.1, mean KL 0
        var (lp, old, reference) = Inputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, 0.1, klEstimator: KlEstimator.K1);
        Assert.Equal(-0.1, output.Loss.Item(), 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        Assert.Equal(0, output.Kl, 6);
    }

    [Fact]
    public void TheRegisteredPpoClipIsTheDefaultPolicyLoss()
    {
        // the same hand-worked case with the policy loss looked up by name: token-mean −0.09, clip fraction 0.4
        var (lp, old, reference) = Inputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, 0.1, policyLoss: PolicyLosses.Get("ppo_clip"));
        Assert.Equal(-0.09, output.Loss.Item(), 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        var (lp2, old2, reference2) = Inputs();
        Assert.Equal(GrpoLoss.Compute(lp2, old2, reference2, TokenAdvantages(), Mask, Clip02, 0.1).Loss.Item(), output.Loss.Item());
    }

    /// <summary>
    /// The hand-worked inputs with the padded token (0, 2) holding logp = −∞, old = NaN, ref = +∞
    /// (the conventions let padding hold anything, NaN and ±∞ included).
    /// </summary>
    private static (Tensor LogProbs, Tensor Old, Tensor Ref) DirtyPaddingInputs()
    {
        var (lp, old, reference) = Inputs();
        var logp = lp.ToArray();
        var oldLogp = old.ToArray();
        var refLogp = reference.ToArray();
        logp[2] = float.NegativeInfinity;
        oldLogp[2] = float.NaN;
        refLogp[2] = float.PositiveInfinity;
        var dirty = Tensor.FromArray(logp, 2, 3);
        dirty.RequiresGrad = true;
        return (dirty, Tensor.FromArray(oldLogp, 2, 3), Tensor.FromArray(refLogp, 2, 3));
    }

    [Fact]
    public void PaddingHoldingInfinitiesDoesNotReachTheLossOrMetrics()
    {
        // the same numbers as the clean hand-worked case: loss −0.09, clip fraction 0.4, mean KL 0.1
        var (lp, old, reference) = DirtyPaddingInputs();
        var output = GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, 0.1);
        Assert.Equal(-0.09, output.Loss.Item(), 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        Assert.Equal(0.1, output.Kl, 5);
    }

    [Fact]
    public void PaddingHoldingInfinitiesDoesNotReachTheGradient()
    {
        // the gradient of the clean hand-worked case (GradientFollowsTheActiveTermOfEachToken), 0 on padding
        var (lp, old, reference) = DirtyPaddingInputs();
        GrpoLoss.Compute(lp, old, reference, TokenAdvantages(), Mask, Clip02, 0.1).Loss.Backward();
        var g = lp.Grad!.ToArray();
        double[] want = [-0.22, -0.02, 0, -0.1, 0.01, 0.3];
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], g[i], 5);
    }

    [Fact]
    public void ShapesAreChecked()
    {
        var x = Tensor.Zeros(2, 3);
        var advantages = Assert.Throws<ArgumentException>(() => GrpoLoss.Compute(x, x, x, Tensor.Zeros(3), Mask, Clip02));
        Assert.Contains("advantages", advantages.Message);
        var old = Assert.Throws<ArgumentException>(() => GrpoLoss.Compute(x, Tensor.Zeros(2, 2), x, x, Mask, Clip02));
        Assert.Contains("oldLogp", old.Message);
        var reference = Assert.Throws<ArgumentException>(() => GrpoLoss.Compute(x, x, Tensor.Zeros(2, 2), x, Mask, Clip02));
        Assert.Contains("refLogp", reference.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GrpoLoss.Compute(x, x, x, x, Mask, Clip02, beta: -0.1));
    }
}
