using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class KlEstimatorTests
{
    // Two tokens: logp = (−1, −2), logp_ref = (−1.5, −1), so d = logp − logp_ref = (0.5, −1).
    //   k1 = d                      = 0.5, −1
    //   k2 = ½ d²                   = 0.125, 0.5
    //   k3 = (r − 1) − log r, r = e^−d: e^−0.5 − 1 + 0.5 = 0.606531 − 0.5 = 0.106531
    //                                   e^1 − 1 − 1     = 2.718282 − 2   = 0.718282
    [Theory]
    [InlineData(KlEstimator.K1, 0.5, -1.0)]
    [InlineData(KlEstimator.K2, 0.125, 0.5)]
    [InlineData(KlEstimator.K3, 0.106531, 0.718282)]
    public void EstimatorsMatchHandWorkedNumbers(KlEstimator estimator, double first, double second)
    {
        Assert.Equal(first, KlEstimators.PerToken(-1.0, -1.5, estimator), 6);
        Assert.Equal(second, KlEstimators.PerToken(-2.0, -1.0, estimator), 6);
        var t = KlEstimators.PerToken(Tensor.FromArray([-1f, -2f], 1, 2), Tensor.FromArray([-1.5f, -1f], 1, 2), estimator).ToArray();
        Assert.Equal(first, t[0], 5);
        Assert.Equal(second, t[1], 5);
    }

    [Fact]
    public void K3AndK2AreNeverNegative()
    {
        for (double d = -8; d <= 8; d += 0.125)
        {
            Assert.True(KlEstimators.PerToken(d, 0, KlEstimator.K3) >= 0, $"k3({d})");
            Assert.True(KlEstimators.PerToken(d, 0, KlEstimator.K2) >= 0, $"k2({d})");
        }
    }

    [Fact]
    public void MaskedMeanIgnoresPaddingAndHasTheRightGradient()
    {
        // Same two tokens plus one padded position holding −∞ (a log-prob that must not leak).
        // mean k3 = (0.106531 + 0.718282) / 2 = 0.412407
        // ∂k3/∂logp = 1 − e^−d: d = 0.5 → 0.3934693, d = −1 → 1 − e = −1.718282; each / 2 for the mean.
        var logp = Tensor.FromArray([-1f, -2f, float.NegativeInfinity], 1, 3);
        logp.RequiresGrad = true;
        var logpRef = Tensor.FromArray([-1.5f, -1f, 0f], 1, 3);
        var mask = Tensor.FromArray([1f, 1f, 0f], 1, 3);
        var kl = KlEstimators.MaskedMean(logp, logpRef, mask, KlEstimator.K3);
        Assert.Equal(0.412407, kl.Item(), 5);
        kl.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(0.1967347, g[0], 6);
        Assert.Equal(-0.859141, g[1], 5);
        Assert.Equal(0, g[2]);

        double[,] plain = KlEstimators.PerToken(new double[,] { { -1, -2, double.NegativeInfinity } }, new double[,] { { -1.5, -1, 0 } }, new double[,] { { 1, 1, 0 } }, KlEstimator.K1);
        Assert.Equal(new double[,] { { 0.5, -1, 0 } }, plain);
        Assert.Equal(-0.25, KlEstimators.MaskedMean(new double[,] { { -1, -2, 5 } }, new double[,] { { -1.5, -1, 0 } }, new double[,] { { 1, 1, 0 } }, KlEstimator.K1), 12);
    }

    [Fact]
    public void MasksThatAreNotRightPaddedAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => KlEstimators.PerToken(new double[1, 3], new double[1, 3], new double[,] { { 1, 0, 1 } }, KlEstimator.K1));
        Assert.Contains("right-padded", e.Message);
    }
}
