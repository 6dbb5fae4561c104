using RlhfSharp.Alignment.Ppo;

namespace RlhfSharp.Alignment.Tests;

public class PpoWhiteningTests
{
    // Real tokens 1, 2, 3 | 4: mean 2.5; unbiased var = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, std 1.290994;
    // whitened = (−1.5, −0.5, 0.5, 1.5)/1.290994 = (−1.161895, −0.387298, 0.387298, 1.161895).
    private static readonly double[,] Mask = { { 1, 1, 1 }, { 1, 0, 0 } };

    [Fact]
    public void WhiteningMatchesHandWorkedNumbersAndIgnoresPadding()
    {
        var a = Whitening.Whiten(new double[,] { { 1, 2, 3 }, { 4, 0, 0 } }, Mask);
        var b = Whitening.Whiten(new double[,] { { 1, 2, 3 }, { 4, 1000, double.NaN } }, Mask);
        Assert.Equal(a, b);
        double[] want = [-1.161895, -0.387298, 0.387298, 1.161895];
        Assert.Equal(want[0], a[0, 0], 6);
        Assert.Equal(want[1], a[0, 1], 6);
        Assert.Equal(want[2], a[0, 2], 6);
        Assert.Equal(want[3], a[1, 0], 6);
        Assert.Equal(0, a[1, 1]);
        Assert.Equal(0, Masked.Mean(a, Mask), 12);
        Assert.Equal(1, Masked.Variance(a, Mask), 6);
    }

    [Fact]
    public void WithoutShiftMeanTheMeanIsKept()
    {
        var a = Whitening.Whiten(new double[,] { { 1, 2, 3 }, { 4, 0, 0 } }, Mask, shiftMean: false);
        Assert.Equal(2.5 - 1.161895, a[0, 0], 6);
        Assert.Equal(2.5, Masked.Mean(a, Mask), 12);
    }

    [Fact]
    public void TensorVersionAgrees()
    {
        var t = Whitening.Whiten(ResponseMask.FromGrid(new double[,] { { 1, 2, 3 }, { 4, 7, 7 } }), ResponseMask.FromGrid(Mask)).ToArray();
        Assert.Equal(-1.161895, t[0], 6);
        Assert.Equal(1.161895, t[3], 6);
        Assert.Equal(0, t[4]);
    }
}
