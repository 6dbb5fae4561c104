using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Gspo;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class GspoLossTests
{
    // logp_old = 0. Row 0: 2 real tokens, logp (0.1, 0.3), then padding (logp −∞, old 3, A 5: junk);
    // row 1: 3 real tokens, logp (−0.3, 0, 0.15). One advantage per row: A = (+1, −1).
    //   s_0 = exp((0.1 + 0.3)/2) = e^0.2 = 1.221403; −A·s = −1.221403 vs −A·clip(s, 0.8, 1.2) = −1.2 → −1.2 (clipped)
    //   s_1 = exp((−0.3 + 0 + 0.15)/3) = e^−0.05 = 0.951229; −A·s = 0.951229 = −A·clip(s) → 0.951229 (inside)
    //   loss: sequences averaged, (−1.2 + 0.9512294)/2 = −0.1243853
    //   gradient: row 0 clipped, 0; row 1: ∂/∂logp_t of (1/B)·(−A·s_1) = (1/2)·s_1/|y_1| = 0.951229/6 = 0.158538
    //   clip fraction: row 0's 2 tokens of 5 = 0.4; ratio mean over tokens (2·1.221403 + 3·0.951229)/5 = 1.059299
    private static readonly PolicyLossSettings Clip02 = new() { ClipLow = 0.2 };

    private static (Tensor Logp, Tensor Old, Tensor Advantages, Tensor Mask) Example()
    {
        var logp = Tensor.FromArray(new float[,] { { 0.1f, 0.3f, float.NegativeInfinity }, { -0.3f, 0f, 0.15f } });
        logp.RequiresGrad = true;
        var old = Tensor.FromArray(new float[,] { { 0, 0, 3 }, { 0, 0, 0 } });
        var adv = Tensor.FromArray(new double[,] { { 1, 1, 5 }, { -1, -1, -1 } });
        return (logp, old, adv, Tensor.FromArray(new float[,] { { 1, 1, 0 }, { 1, 1, 1 } }));
    }

    [Fact]
    public void SequenceRatioIsClippedPerSequenceAndSequencesAreAveraged()
    {
        var (logp, old, adv, mask) = Example();
        var output = GspoLoss.Compute(logp, old, adv, mask, Clip02);
        Assert.Equal(-0.1243853, output.Loss.Item(), 6);
        var perToken = output.PerToken.ToArray();
        double[] want = [-1.2, -1.2, 0, 0.951229, 0.951229, 0.951229];
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], perToken[i], 5);
        Assert.Equal(0.4, output.ClipFraction, 12);
        Assert.Equal(1.059299, output.RatioMean, 5);
        Assert.Equal(1.221403, output.RatioMax, 5);

        output.Loss.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal([0f, 0f, 0f], g[..3]);
        for (int t = 3; t < 6; t++)
            Assert.Equal(0.158538, g[t], 5);
    }

    [Fact]
    public void TokensShareTheirSequenceRatio()
    {
        // one row, logp (0.5, −0.5), A = +1, ε = 0.2: token ratios e^±0.5 = 1.648721, 0.606531 would be
        // clipped by PPO (−1.2 and −0.606531: mean −0.903266), but s = exp(0) = 1 is inside:
        // GSPO's loss is −1, and each token's gradient −A·s/|y| = −0.5
        var logp = Tensor.FromArray(new float[,] { { 0.5f, -0.5f } });
        logp.RequiresGrad = true;
        var zeros = Tensor.Zeros(1, 2);
        var adv = Tensor.Ones(1, 2);
        var output = GspoLoss.Compute(logp, zeros, adv, Tensor.Ones(1, 2), Clip02);
        Assert.Equal(-1, output.Loss.Item(), 6);
        Assert.Equal(0, output.ClipFraction);
        output.Loss.Backward();
        Assert.Equal(-0.5, logp.Grad!.ToArray()[0], 6);
        Assert.Equal(-0.5, logp.Grad!.ToArray()[1], 6);
        Assert.Equal(-0.903266, PolicyLoss.PpoClip(logp.Detach(), zeros, adv, Tensor.Ones(1, 2), Clip02).Loss.Item(), 5);
    }

    [Fact]
    public void PaperSizedClipRangesClipSmallSequenceMoves()
    {
        // ε = 3e-4, ε_high = 4e-4 on the example: s_0 = 1.221403 clipped to 1.0004 → −1.0004;
        // s_1 = 0.951229 with A = −1: max(0.951229, 0.9997) = 0.9997 (clipped); (−1.0004 + 0.9997)/2 = −0.00035
        var (logp, old, adv, mask) = Example();
        var output = GspoLoss.Compute(logp, old, adv, mask, new PolicyLossSettings { ClipLow = 3e-4, ClipHigh = 4e-4 });
        Assert.Equal(-0.00035, output.Loss.Item(), 6);
        Assert.Equal(1, output.ClipFraction, 12);
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesOfTheSequenceLevelLoss()
    {
        // The value of the GSPO-token loss is the sequence-level loss; with one advantage per row its
        // stop-gradient backward must equal that loss's finite differences. old 0 except where noted;
        // mean log ratios: row 0 (0.1 + 0.2 − 0.1 + 0.2)/4 = 0.1 (A 0.75, inside),
        // row 1 (−0.2 + 0.2 + 0.1)/3 = 0.0333 (A −1.25, inside, padded), row 2 (0.3 + 0.5 + 0.1)/3 = 0.3 (A 0.5, clipped: 0).
        float[] old = [-1.1f, -0.8f, -1.9f, -0.5f, -0.2f, -1.7f, -1.0f, 2f, -1f, -1f, -1f, 0f];
        float[] logp = [-1.0f, -0.6f, -2.0f, -0.3f, -0.4f, -1.5f, -0.9f, -9f, -0.7f, -0.5f, -0.9f, 0f];
        float[] adv = [0.75f, 0.75f, 0.75f, 0.75f, -1.25f, -1.25f, -1.25f, 0f, 0.5f, 0.5f, 0.5f, 0f];
        float[] mask = [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0];
        PolicyLossGradientCheck.Check(GspoLoss.Compute, logp, old, adv, mask, 3, 4, Clip02);
    }

    [Fact]
    public void RegisteredAsGspo()
    {
        Assert.Equal((PolicyLossFunction)GspoLoss.Compute, PolicyLosses.Get("gspo"));
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var (logp, old, adv, mask) = Example();
        Assert.Throws<ArgumentOutOfRangeException>(() => GspoLoss.Compute(logp, old, adv, mask, new PolicyLossSettings { ClipLow = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => GspoLoss.Compute(logp, old, adv, mask, new PolicyLossSettings { ClipLow = 0.2, ClipHigh = -0.1 }));
        Assert.Throws<ArgumentException>(() => GspoLoss.Compute(logp, Tensor.Zeros(2, 2), adv, mask, Clip02));
        var holed = Tensor.FromArray(new float[,] { { 1, 0, 1 }, { 1, 1, 1 } });
        Assert.Contains("right-padded", Assert.Throws<ArgumentException>(() => GspoLoss.Compute(logp, old, adv, holed, Clip02)).Message);
    }
}
