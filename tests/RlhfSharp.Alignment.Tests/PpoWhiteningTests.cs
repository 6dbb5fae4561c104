using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class PpoWhiteningTests
{
    // Real tokens 1, 2, 3 | 4: mean 2.5; unbiased var = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, std 1.290994;
    // whitened = (−1.5, −0.5, 0.5, 1.5)/1.290994 = (−1.161895, −0.387298, 0.387298, 1.161895).
    private static readonly Tensor Mask = Tensor.FromArray(new double[,] { { 1, 1, 1 }, { 1, 0, 0 } });

    [Fact]
    public void WhiteningMatchesHandWorkedNumbersAndIgnoresPadding()
    {
        var a = Whitening.Whiten(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 0, 0 } }), Mask);
        var b = Whitening.Whiten(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 1000, double.NaN } }), Mask);
        Assert.Equal(DType.Float64, a.Dtype);
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        var av = a.ToDoubleArray();
        Assert.Equal(av, b.ToDoubleArray());
        double[] want = [-1.161895, -0.387298, 0.387298, 1.161895];
        Assert.Equal(want[0], av[0], 6);
        Assert.Equal(want[1], av[1], 6);
        Assert.Equal(want[2], av[2], 6);
        Assert.Equal(want[3], av[3], 6);
        Assert.Equal(0, av[4]);
        Assert.Equal(0, Masked.Mean(a, Mask).ItemDouble(), 12);
        Assert.Equal(1, Masked.Variance(a, Mask).ItemDouble(), 6);
    }

    [Fact]
    public void WithoutShiftMeanTheMeanIsKept()
    {
        var a = Whitening.Whiten(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 0, 0 } }), Mask, shiftMean: false);
        Assert.Equal(2.5 - 1.161895, a.ToDoubleArray()[0], 6);
        Assert.Equal(2.5, Masked.Mean(a, Mask).ItemDouble(), 12);
    }

    [Fact]
    public void Float32InputsAgree()
    {
        var t = Whitening.Whiten(Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 7, 7 } }).Float(), Mask.Float()).ToDoubleArray();
        Assert.Equal(-1.161895, t[0], 6);
        Assert.Equal(1.161895, t[3], 6);
        Assert.Equal(0, t[4]);
    }

    [Fact]
    public void MaskedStatisticsOnFloat64EqualAPlainDoubleLoopBitForBit()
    {
        // 4 rows of lengths 7, 3, 5, 1 over T = 7, values spanning several magnitudes (so that the
        // order of the additions shows in the last bits) and junk (NaN, ∞, 1e300) in the padding.
        int[] lengths = [7, 3, 5, 1];
        const int Rows = 4, Cols = 7;
        var rng = new Random(11);
        var x = new double[Rows * Cols];
        var m = new double[Rows * Cols];
        double[] junk = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e300];
        for (int b = 0; b < Rows; b++)
            for (int t = 0; t < Cols; t++)
            {
                int i = (b * Cols) + t;
                m[i] = t < lengths[b] ? 1 : 0;
                x[i] = t < lengths[b] ? (rng.NextDouble() - 0.3) * Math.Pow(10, rng.Next(-3, 4)) : junk[i % junk.Length];
            }
        var xt = Tensor.FromArray(x, Rows, Cols);
        var mt = Tensor.FromArray(m, Rows, Cols);

        // The plain loops: real tokens only, in row-major order.
        double sum = 0;
        int n = 0;
        for (int i = 0; i < x.Length; i++)
            if (m[i] == 1)
            {
                sum += x[i];
                n++;
            }
        double mean = sum / n;
        double squares = 0;
        for (int i = 0; i < x.Length; i++)
            if (m[i] == 1)
                squares += (x[i] - mean) * (x[i] - mean);
        var rowSums = new double[Rows];
        for (int b = 0; b < Rows; b++)
            for (int t = 0; t < lengths[b]; t++)
                rowSums[b] += x[(b * Cols) + t];

        var meanT = Masked.Mean(xt, mt);
        Assert.Equal(DType.Float64, meanT.Dtype);
        Assert.Empty(meanT.Shape);
        Assert.Equal(BitConverter.DoubleToInt64Bits(mean), BitConverter.DoubleToInt64Bits(meanT.ItemDouble()));
        Assert.Equal(BitConverter.DoubleToInt64Bits(squares / (n - 1)), BitConverter.DoubleToInt64Bits(Masked.Variance(xt, mt).ItemDouble()));
        Assert.Equal(BitConverter.DoubleToInt64Bits(squares / n), BitConverter.DoubleToInt64Bits(Masked.Variance(xt, mt, unbiased: false).ItemDouble()));
        var rowSumsT = Masked.RowSums(xt, mt);
        Assert.Equal(new[] { Rows }, rowSumsT.Shape);
        Assert.Equal(rowSums.Select(BitConverter.DoubleToInt64Bits), rowSumsT.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
        var zeroed = Masked.Zeroed(xt, mt).ToDoubleArray();
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(m[i] == 1 ? x[i] : 0, zeroed[i]);

        // Whitening is the same plain formula: (x − mean)·(1/√(var + eps)) on real tokens, 0 on padding.
        double scale = 1 / Math.Sqrt((squares / (n - 1)) + 1e-8);
        var whitened = Whitening.Whiten(xt, mt).ToDoubleArray();
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(m[i] == 1 ? (x[i] - mean) * scale : 0), BitConverter.DoubleToInt64Bits(whitened[i]));
    }

    [Fact]
    public void FewerThanTwoRealTokensAreCentredNotScaled()
    {
        // Every response one token long in a batch of one: no spread to divide by, so the lone
        // advantage becomes 0 (centred) instead of an error; without shiftMean it is kept as it is.
        var one = Tensor.FromArray(new double[,] { { 1, 0, 0 } });
        var values = Tensor.FromArray(new double[,] { { 3.5, 9, double.NaN } });
        Assert.Equal(new double[] { 0, 0, 0 }, Whitening.Whiten(values, one).ToDoubleArray());
        Assert.Equal(new double[] { 3.5, 0, 0 }, Whitening.Whiten(values, one, shiftMean: false).ToDoubleArray());

        // No real token at all: zeros.
        var none = Tensor.FromArray(new double[,] { { 0, 0, 0 }, { 0, 0, 0 } });
        var x = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new double[6], Whitening.Whiten(x, none).ToDoubleArray());
    }
}
