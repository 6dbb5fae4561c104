using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class FunctionalRopeTests
{
    /// <summary>Half-split RoPE in double: pair (i, i + rd/2) rotated by p·θ^(−2i/rd).</summary>
    private static double[] RefRope(float[] x, int bn, int hn, int tn, int d, int[] pos, bool perBatch, double theta, int rd)
    {
        var y = x.Select(v => (double)v).ToArray();
        int half = rd / 2;
        for (int b = 0; b < bn; b++)
            for (int h = 0; h < hn; h++)
                for (int t = 0; t < tn; t++)
                {
                    int o = (((b * hn) + h) * tn + t) * d;
                    int p = pos[perBatch ? (b * tn) + t : t];
                    for (int i = 0; i < half; i++)
                    {
                        double a = p * Math.Pow(theta, -2.0 * i / rd);
                        double x1 = x[o + i], x2 = x[o + i + half];
                        y[o + i] = (x1 * Math.Cos(a)) - (x2 * Math.Sin(a));
                        y[o + i + half] = (x2 * Math.Cos(a)) + (x1 * Math.Sin(a));
                    }
                }
        return y;
    }

    [Fact]
    public void HandWorkedRotation()
    {
        // D = 2: the single pair rotates by angle p. x = (1, 0) at position 1 -> (cos 1, sin 1).
        var x = Tensor.FromArray([1f, 0f, 1f, 0f], 1, 1, 2, 2);
        var y = F.Rope(x, Tensor.FromArray([0, 1], 2)).ToArray();
        AssertClose([1, 0, Math.Cos(1), Math.Sin(1)], y, 1e-6);
    }

    [Theory]
    [InlineData(2, 3, 5, 4, false, null)]
    [InlineData(1, 2, 1, 6, true, null)]
    [InlineData(2, 1, 5, 8, true, 4)]
    public void ForwardMatchesReference(int bn, int hn, int tn, int d, bool perBatch, int? rotaryDim)
    {
        var x = Randn(70, bn, hn, tn, d);
        var pos = RandIds(71, 50, perBatch ? [bn, tn] : [tn]);
        var expected = RefRope(x.ToArray(), bn, hn, tn, d, pos.ToIntArray(), perBatch, 10000, rotaryDim ?? d);
        AssertClose(expected, F.Rope(x, pos, rotaryDim: rotaryDim).ToArray(), 1e-5);
        var cache = new RopeCache(d, 64, rotaryDim: rotaryDim);
        Assert.Equal(F.Rope(x, pos, rotaryDim: rotaryDim).ToArray(), F.Rope(x, pos, cache).ToArray());
    }

    [Theory]
    [InlineData(2, 3, 5, 4, false, null)]
    [InlineData(1, 2, 1, 6, true, null)]
    [InlineData(2, 1, 5, 8, true, 4)]
    public void GradCheckBothPositionLayouts(int bn, int hn, int tn, int d, bool perBatch, int? rotaryDim)
    {
        var pos = RandIds(72, 30, perBatch ? [bn, tn] : [tn]);
        GradCheck.Check(t => F.Rope(t[0], pos, 500f, rotaryDim), [Randn(73, bn, hn, tn, d)]);
        var cache = new RopeCache(d, 30, 500f, rotaryDim);
        GradCheck.Check(t => F.Rope(t[0], pos, cache), [Randn(74, bn, hn, tn, d)]);
    }

    [Fact]
    public void TransposedInputIsReadInPlace()
    {
        var bthd = Randn(75, 2, 5, 3, 4);
        var pos = Tensor.FromArray([3, 4, 5, 6, 7], 5);
        var view = bthd.Transpose(1, 2);
        Assert.Equal(F.Rope(view.Contiguous(), pos).ToArray(), F.Rope(view, pos).ToArray());
    }

    [Fact]
    public void ErrorsNameTheProblem()
    {
        var x = Tensor.Zeros(1, 2, 3, 4);
        Assert.Equal("Rope", Assert.Throws<ShapeMismatchException>(() => F.Rope(x, Tensor.FromArray([0, 1], 2))).Op);
        Assert.Throws<ShapeMismatchException>(() => F.Rope(Tensor.Zeros(3, 4), Tensor.FromArray([0, 1, 2], 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Rope(x, Tensor.FromArray([0, 1, 2], 3), rotaryDim: 3));
        var ex = Assert.Throws<IndexOutOfRangeException>(() => F.Rope(x, Tensor.FromArray([0, 1, 8], 3), new RopeCache(4, 8)));
        Assert.Contains("position 8", ex.Message);
    }

    [Fact]
    public void CacheTablesAreBuiltLazilyAndGrowWithTheSameNumbers()
    {
        // A long-context cache costs nothing until used, covers what a sequence needs, and its
        // grown tables hold exactly the numbers a table built eagerly for every position holds.
        var cache = new RopeCache(8, 1 << 20, 500f, rotaryDim: 6);
        Assert.Equal(0, cache.BuiltPositions);
        var x = Randn(76, 1, 2, 3, 8);
        var shortY = F.Rope(x, Tensor.FromArray([0, 1, 2], 3), cache).ToArray();
        Assert.InRange(cache.BuiltPositions, 3, 1024);
        var longPos = Tensor.FromArray([5, 3000, 70000], 3);
        var longY = F.Rope(x, longPos, cache).ToArray();
        Assert.InRange(cache.BuiltPositions, 70001, 1 << 18);

        var eager = RopeCache.Tables(Enumerable.Range(0, 70001).ToArray(), 6, 500f);
        var built = cache.EnsureBuilt(70001);
        Assert.Equal(eager.Cos, built.Cos[..eager.Cos.Length]);
        Assert.Equal(eager.Sin, built.Sin[..eager.Sin.Length]);
        Assert.Equal(F.Rope(x, Tensor.FromArray([0, 1, 2], 3), 500f, 6).ToArray(), shortY);
        Assert.Equal(F.Rope(x, longPos, 500f, 6).ToArray(), longY);
    }
}
