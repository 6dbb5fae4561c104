namespace RlhfSharp.Tensors.Tests;

/// <summary>The tanh GELU kernels: every vector width agrees with the scalar path, and both directions agree with the formula in double.</summary>
public class GeluKernelTests
{
    private static double Reference(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    private static double ReferenceGrad(double x)
    {
        double c = Math.Sqrt(2 / Math.PI);
        double t = Math.Tanh(c * (x + (0.044715 * x * x * x)));
        return (0.5 * (1 + t)) + (0.5 * x * (1 - (t * t)) * c * (1 + (3 * 0.044715 * x * x)));
    }

    private static float[] Inputs(int n)
    {
        var rng = new Random(n);
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)((rng.NextDouble() - 0.5) * (i % 4 == 0 ? 40 : 8));
        return x;
    }

    [Theory]
    [MemberData(nameof(SiluKernelTests.Widths), MemberType = typeof(SiluKernelTests))]
    public void EveryWidthMatchesScalarBitForBit(int width)
    {
        foreach (int n in new[] { 1, 7, 16, 17, 33, 1000 })
        {
            var x = Inputs(n);
            var g = Inputs(n + 1)[..n];
            var y0 = new float[n];
            var y = new float[n];
            var d0 = new float[n];
            var d = new float[n];
            SiluKernels.GeluTanh(x, y0, maxWidth: 0);
            SiluKernels.GeluTanh(x, y, maxWidth: width);
            SiluKernels.GeluTanhBackward(x, g, d0, maxWidth: 0);
            SiluKernels.GeluTanhBackward(x, g, d, maxWidth: width);
            Assert.Equal(y0, y);
            Assert.Equal(d0, d);
        }
    }

    [Fact]
    public void ValuesAndGradientsMatchTheFormulaInDouble()
    {
        float[] x = [.. Inputs(2000), 0f, -0f, 1e-6f, -1e-6f, 3f, -3f, -9f, 9f, -30f, 30f];
        var y = new float[x.Length];
        var d = new float[x.Length];
        var ones = Enumerable.Repeat(1f, x.Length).ToArray();
        SiluKernels.GeluTanh(x, y);
        SiluKernels.GeluTanhBackward(x, ones, d);
        for (int i = 0; i < x.Length; i++)
        {
            double r = Reference(x[i]);
            double rg = ReferenceGrad(x[i]);
            Assert.True(Math.Abs(y[i] - r) <= 1e-6 + (2e-6 * Math.Abs(r)), $"gelu({x[i]}) = {y[i]}, expected {r}");
            Assert.True(Math.Abs(d[i] - rg) <= 1e-6 + (2e-6 * Math.Abs(rg)), $"gelu'({x[i]}) = {d[i]}, expected {rg}");
        }
    }
}
