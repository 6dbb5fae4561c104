using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class DualClipPolicyLossTests
{
    // ε = 0.2, c = 3, logp_old = 0 so ratio r = e^logp; one padded position (logp −∞, old 3, A = −5: junk).
    // PPO term max(−A·r, −A·clip(r, 0.8, 1.2)), then min(·, −c·A) where A < 0:
    //   a) A = −1, r = 5:   max(5, 1.2) = 5,      bound 3 → 3 (dual-clipped), grad 0
    //   b) A = −1, r = 2:   max(2, 1.2) = 2,      bound 3 → 2 (unclipped), grad −A·r = 2
    //   c) A = +1, r = 5:   max(−5, −1.2) = −1.2  (clipped; A > 0: no bound), grad 0
    //   d) A = −2, r = 0.5: max(1, 1.6) = 1.6     (clipped), bound 6 → 1.6, grad 0
    // token mean (3 + 2 − 1.2 + 1.6)/4 = 5.4/4 = 1.35; PPO clip fraction (c, d) 2/4; dual-clip fraction (a) 1/4;
    // gradient /4: 0, 0.5, 0, 0, 0 (padding).
    private static readonly PolicyLossSettings Settings = new() { ClipLow = 0.2, DualClipC = 3 };

    private static (Tensor Logp, Tensor Old, Tensor Advantages, Tensor Mask) Example()
    {
        var logp = Tensor.FromArray([MathF.Log(5f), MathF.Log(2f), MathF.Log(5f), MathF.Log(0.5f), float.NegativeInfinity], 1, 5);
        logp.RequiresGrad = true;
        return (logp, Tensor.FromArray([0f, 0f, 0f, 0f, 3f], 1, 5), Tensor.FromArray(new double[] { -1, -1, 1, -2, -5 }, 1, 5), Tensor.FromArray([1f, 1f, 1f, 1f, 0f], 1, 5));
    }

    [Fact]
    public void NegativeAdvantagesAreBoundedByCTimesA()
    {
        var (logp, old, adv, mask) = Example();
        var output = DualClipPolicyLoss.Compute(logp, old, adv, mask, Settings);
        Assert.Equal(1.35, output.Loss.Item(), 5);
        var perToken = output.PerToken.ToArray();
        Assert.Equal(3, perToken[0], 5);
        Assert.Equal(2, perToken[1], 5);
        Assert.Equal(-1.2, perToken[2], 5);
        Assert.Equal(1.6, perToken[3], 5);
        Assert.Equal(0, perToken[4]);
        Assert.Equal(0.5, output.ClipFraction, 12);
        Assert.Equal(0.25, output.DualClipFraction, 12);
        Assert.Equal(5, output.RatioMax, 4);

        output.Loss.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(0, g[0]);
        Assert.Equal(0.5, g[1], 5);
        Assert.Equal(0, g[2]);
        Assert.Equal(0, g[3]);
        Assert.Equal(0, g[4]);

        // plain PPO on the same tokens leaves a) unbounded: (5 + 2 − 1.2 + 1.6)/4 = 1.85, and a) has gradient 5/4
        var (lp2, old2, adv2, mask2) = Example();
        var ppo = PolicyLoss.PpoClip(lp2, old2, adv2, mask2, Settings);
        Assert.Equal(1.85, ppo.Loss.Item(), 5);
        Assert.Equal(0, ppo.DualClipFraction);
    }

    [Fact]
    public void ALargerCLoosensTheBound()
    {
        // c = 10: a)'s bound is 10 > 5, so every token is PPO's: 1.85, nothing dual-clipped
        var (logp, old, adv, mask) = Example();
        var output = DualClipPolicyLoss.Compute(logp, old, adv, mask, Settings with { DualClipC = 10 });
        Assert.Equal(1.85, output.Loss.Item(), 5);
        Assert.Equal(0, output.DualClipFraction);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        // old 0; ratios e^logp: 4 (A −1: dual-clipped), 1.5 (A −1: unclipped), 1.1 (A 1), 0.6 (A −0.5: clipped),
        // 0.9 (A 2), then padding; away from every kink (0.8, 1.2, and −A·r = −c·A at r = 3).
        float[] logp = [MathF.Log(4f), MathF.Log(1.5f), MathF.Log(1.1f), MathF.Log(0.6f), MathF.Log(0.9f), -7f];
        PolicyLossGradientCheck.Check(DualClipPolicyLoss.Compute, logp, new float[6], [-1f, -1f, 1f, -0.5f, 2f, 0f], [1, 1, 1, 1, 1, 0], 2, 3, Settings);
    }

    [Fact]
    public void RegisteredAsDualClip()
    {
        Assert.Equal((PolicyLossFunction)DualClipPolicyLoss.Compute, PolicyLosses.Get("dual_clip"));
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var (logp, old, adv, mask) = Example();
        foreach (var c in new[] { 1.0, 0.5, double.NaN, double.PositiveInfinity })
            Assert.Contains("> 1", Assert.Throws<ArgumentOutOfRangeException>(() => DualClipPolicyLoss.Compute(logp, old, adv, mask, Settings with { DualClipC = c })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DualClipPolicyLoss.Compute(logp, old, adv, mask, Settings with { ClipLow = 1.5 }));
        Assert.Throws<ArgumentException>(() => DualClipPolicyLoss.Compute(logp, old, Tensor.Zeros(1, 4), mask, Settings));
    }
}
