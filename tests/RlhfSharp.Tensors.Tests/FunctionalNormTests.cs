using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class FunctionalNormTests
{
    private static double[] RefNorm(float[] x, int c, float[]? w, float[]? b, double eps, bool rms)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / c; r++)
        {
            double mean = 0, sq = 0;
            for (int j = 0; j < c; j++)
                mean += x[(r * c) + j];
            mean = rms ? 0 : mean / c;
            for (int j = 0; j < c; j++)
                sq += (x[(r * c) + j] - mean) * (x[(r * c) + j] - mean);
            double rstd = 1 / Math.Sqrt((sq / c) + eps);
            for (int j = 0; j < c; j++)
                y[(r * c) + j] = ((x[(r * c) + j] - mean) * rstd * (w?[j] ?? 1)) + (b?[j] ?? 0);
        }
        return y;
    }

    [Theory]
    [InlineData(new[] { 3, 17 })]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 1, 1 })]
    [InlineData(new[] { 2, 300 })]
    public void LayerNormForwardMatchesReference(int[] shape)
    {
        int c = shape[^1];
        var x = (Randn(30, shape) * 2f) + 1f;
        var w = Randn(31, c);
        var b = Randn(32, c);
        AssertClose(RefNorm(x.ToArray(), c, w.ToArray(), b.ToArray(), 1e-5, rms: false), F.LayerNorm(x, w, b).ToArray(), 1e-4);
        AssertClose(RefNorm(x.ToArray(), c, null, null, 1e-5, rms: false), F.LayerNorm(x).ToArray(), 1e-4);
    }

    [Theory]
    [InlineData(new[] { 3, 17 })]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 2, 300 })]
    public void RmsNormForwardMatchesReference(int[] shape)
    {
        int c = shape[^1];
        var x = Randn(33, shape);
        var w = Randn(34, c);
        AssertClose(RefNorm(x.ToArray(), c, w.ToArray(), null, 1e-6, rms: true), F.RmsNorm(x, w).ToArray(), 1e-4);
        AssertClose(RefNorm(x.ToArray(), c, null, null, 1e-6, rms: true), F.RmsNorm(x).ToArray(), 1e-4);
    }

    [Fact]
    public void HandWorkedValues()
    {
        // x = (1, 3): mean 2, var 1 -> (−1, 1)/√(1+eps); RMS: √5 -> (1, 3)/√5.
        AssertClose([-1, 1], F.LayerNorm(Tensor.FromArray([1f, 3f], 1, 2), eps: 0f).ToArray());
        AssertClose([1 / Math.Sqrt(5), 3 / Math.Sqrt(5)], F.RmsNorm(Tensor.FromArray([1f, 3f], 1, 2), eps: 0f).ToArray());
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new[] { 4, 17 })]
    public void LayerNormGradCheck(int[] shape)
    {
        int c = shape[^1];
        GradCheck.Check(t => F.LayerNorm(t[0], t[1], t[2]), [Randn(35, shape), Randn(36, c), Randn(37, c)]);
        GradCheck.Check(t => F.LayerNorm(t[0]), [Randn(38, shape)]);
        GradCheck.Check(t => F.LayerNorm(t[0], t[1]), [Randn(39, shape), Randn(40, c)]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new[] { 4, 17 })]
    public void RmsNormGradCheck(int[] shape)
    {
        GradCheck.Check(t => F.RmsNorm(t[0], t[1]), [Randn(41, shape), Randn(42, shape[^1])]);
        GradCheck.Check(t => F.RmsNorm(t[0]), [Randn(43, shape)]);
    }

    [Fact]
    public void WeightGradientWithoutInputGradient()
    {
        var x = Randn(44, 3, 4);
        var w = Randn(45, 4);
        w.RequiresGrad = true;
        F.RmsNorm(x, w).Sum().Backward();
        var expected = new double[4];
        var xs = x.ToArray();
        for (int r = 0; r < 3; r++)
        {
            double ms = 0;
            for (int j = 0; j < 4; j++)
                ms += xs[(r * 4) + j] * xs[(r * 4) + j] / 4;
            for (int j = 0; j < 4; j++)
                expected[j] += xs[(r * 4) + j] / Math.Sqrt(ms + 1e-6);
        }
        AssertClose(expected, w.Grad!.ToArray(), 1e-5);
    }

    [Fact]
    public void ParameterShapeErrorsNameOpAndShapes()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => F.LayerNorm(Tensor.Zeros(2, 4), Tensor.Ones(3)));
        Assert.Equal("LayerNorm", ex.Op);
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[2, 4]", ex.Message);
        Assert.Equal("RmsNorm", Assert.Throws<ShapeMismatchException>(() => F.RmsNorm(Tensor.Zeros(2, 4), Tensor.Ones(5))).Op);
    }
}
