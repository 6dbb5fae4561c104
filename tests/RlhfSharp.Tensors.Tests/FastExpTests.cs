using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Tests;

/// <summary>The all-float exp used by the row kernels and SiLU: accuracy in double, special values, widths agree.</summary>
public class FastExpTests
{
    [Fact]
    public void RelativeErrorIsWithinTwoUlp()
    {
        double worst = 0;
        for (float x = FastExp.MinArg; x <= FastExp.MaxArg; x += 0.00917f)
        {
            double e = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(FastExp.Exp(x) - e) / e);
        }
        Assert.True(worst < 2.4e-7, $"worst relative error {worst:G3}");
    }

    [Fact]
    public void SpecialValues()
    {
        Assert.Equal(1f, FastExp.Exp(0f));
        Assert.Equal(0f, FastExp.Exp(float.NegativeInfinity));
        Assert.Equal(0f, FastExp.Exp(-87.01f));
        Assert.Equal(0f, FastExp.Exp(-1e30f));
        Assert.Equal(float.PositiveInfinity, FastExp.Exp(88.5f));
        Assert.Equal(float.PositiveInfinity, FastExp.Exp(float.PositiveInfinity));
        Assert.True(float.IsNaN(FastExp.Exp(float.NaN)));
    }

    [Fact]
    public void VectorFormsMatchScalarBitForBit()
    {
        var rng = new Random(5);
        for (int round = 0; round < 200; round++)
        {
            var x = new float[16];
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)((rng.NextDouble() - 0.7) * (round % 4 == 0 ? 250 : 30));
            x[round % 16] = round % 3 == 0 ? float.NegativeInfinity : round % 3 == 1 ? -87f : 0f;
            var expected = x.Select(FastExp.Exp).ToArray();
            if (Vector512.IsHardwareAccelerated)
            {
                var y = new float[16];
                FastExp.Exp(Vector512.Create(x)).CopyTo(y);
                Assert.Equal(expected, y);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var y = new float[8];
                FastExp.Exp(Vector256.Create(x.AsSpan(0, 8))).CopyTo(y);
                Assert.Equal(expected[..8], y);
            }
        }
    }
}
