using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Tests;

/// <summary>The fused SiLU kernels: every vector width against the scalar path, and accuracy in double.</summary>
public class SiluKernelTests
{
    public static TheoryData<int> Widths()
    {
        var widths = new TheoryData<int> { 0 };
        if (Vector256.IsHardwareAccelerated)
            widths.Add(256);
        if (Vector512.IsHardwareAccelerated)
            widths.Add(512);
        return widths;
    }

    private static float[] Inputs(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)((rng.NextDouble() - 0.5) * (i % 3 == 0 ? 200 : 12));
        // Edge values where they fit: zeros of both signs, the cut-off, saturation, infinities.
        float[] edges = [0f, -0f, -87.3f, -87.31f, 87.3f, -1e4f, 1e4f, float.NegativeInfinity, float.PositiveInfinity, 1e-20f, -1e-20f];
        for (int i = 0; i < Math.Min(n, edges.Length); i++)
            x[(i * 7) % n] = edges[i];
        return x;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EveryWidthMatchesScalarBitForBit(int width)
    {
        foreach (int n in new[] { 1, 3, 7, 8, 15, 16, 17, 31, 33, 129, 1000 })
        {
            var x = Inputs(n, n);
            var g = Inputs(n, n + 1000);
            var yRef = new float[n];
            var y = new float[n];
            SiluKernels.Silu(x, yRef, maxWidth: 0);
            SiluKernels.Silu(x, y, maxWidth: width);
            Assert.Equal(yRef, y);
            var dRef = new float[n];
            var d = new float[n];
            SiluKernels.SiluBackward(x, g, dRef, maxWidth: 0);
            SiluKernels.SiluBackward(x, g, d, maxWidth: width);
            Assert.Equal(dRef, d);
            for (int i = 0; i < n; i++)
                Assert.Equal(x[i] * SiluKernels.Sigmoid(x[i]), yRef[i]);
        }
    }

    [Fact]
    public void SigmoidIsAccurateInDouble()
    {
        double worst = 0;
        for (float x = -87f; x <= 87f; x += 0.01731f)
        {
            double e = 1 / (1 + Math.Exp(-(double)x));
            double err = Math.Abs(SiluKernels.Sigmoid(x) - e) / e;
            worst = Math.Max(worst, err);
        }
        Assert.True(worst < 4e-7, $"worst relative error {worst:G3}");
    }

    [Fact]
    public void SaturatesAndKeepsSpecialValues()
    {
        Assert.Equal(0f, SiluKernels.Sigmoid(-1e4f));
        Assert.Equal(0f, SiluKernels.Sigmoid(float.NegativeInfinity));
        Assert.Equal(1f, SiluKernels.Sigmoid(1e4f));
        Assert.Equal(1f, SiluKernels.Sigmoid(float.PositiveInfinity));
        Assert.Equal(0.5f, SiluKernels.Sigmoid(0f));
        Assert.True(float.IsNaN(SiluKernels.Sigmoid(float.NaN)));
        var y = new float[3];
        SiluKernels.Silu([float.PositiveInfinity, -1e4f, 0f], y);
        Assert.Equal([float.PositiveInfinity, 0f, 0f], y.Select(v => v == 0 ? 0f : v).ToArray());
    }
}
