using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class FunctionalSoftmaxTests
{
    private static double[] RefSoftmax(float[] x, int c, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / c; r++)
        {
            double lse = LogSumExp(x, r * c, c);
            for (int j = 0; j < c; j++)
                y[(r * c) + j] = log ? x[(r * c) + j] - lse : Math.Exp(x[(r * c) + j] - lse);
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(4, 129)]
    [InlineData(2, 1000)]
    public void ForwardMatchesDoubleReference(int n, int c)
    {
        var x = Randn(1, n, c) * 3f;
        AssertClose(RefSoftmax(x.ToArray(), c, log: false), F.Softmax(x).ToArray());
        AssertClose(RefSoftmax(x.ToArray(), c, log: true), F.LogSoftmax(x).ToArray());
    }

    [Fact]
    public void HandWorkedValues()
    {
        var x = Tensor.FromArray([0f, MathF.Log(3f)], 1, 2);
        AssertClose([0.25, 0.75], F.Softmax(x).ToArray());
        AssertClose([Math.Log(0.25), Math.Log(0.75)], F.LogSoftmax(x).ToArray());
    }

    [Fact]
    public void OtherDimMatchesTransposedLastDim()
    {
        var x = Randn(2, 4, 3, 5);
        var expected = F.Softmax(x.Transpose(1, 2).Contiguous()).Transpose(1, 2).Contiguous().ToArray();
        Assert.Equal(expected, F.Softmax(x, dim: 1).ToArray());
        var expectedLog = F.LogSoftmax(x.Transpose(0, 2).Contiguous()).Transpose(0, 2).Contiguous().ToArray();
        Assert.Equal(expectedLog, F.LogSoftmax(x, dim: 0).ToArray());
    }

    [Fact]
    public void NonContiguousRowsAreReadInPlace()
    {
        var x = Randn(3, 2, 5, 7);
        var view = x.Narrow(1, 1, 3);
        Assert.Equal(F.Softmax(view.Contiguous()).ToArray(), F.Softmax(view).ToArray());
    }

    [Fact]
    public void ExtremeLogitsStayFinite()
    {
        var x = Tensor.FromArray([1e4f, -1e4f, 0f, 1e4f, -1e4f, -1e4f], 2, 3);
        var p = F.Softmax(x).ToArray();
        var lp = F.LogSoftmax(x).ToArray();
        AssertAllFinite(p);
        AssertAllFinite(lp);
        AssertClose([1, 0, 0, 1, 0, 0], p);
        Assert.Equal(-2e4f, lp[1]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 }, -1)]
    [InlineData(new[] { 3, 1 }, -1)]
    [InlineData(new[] { 1, 17 }, -1)]
    [InlineData(new[] { 2, 3, 4 }, 1)]
    public void SoftmaxGradCheck(int[] shape, int dim)
    {
        GradCheck.Check(t => F.Softmax(t[0], dim), [Randn(4, shape)]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 }, -1)]
    [InlineData(new[] { 3, 1 }, -1)]
    [InlineData(new[] { 1, 17 }, -1)]
    [InlineData(new[] { 2, 3, 4 }, 0)]
    public void LogSoftmaxGradCheck(int[] shape, int dim)
    {
        GradCheck.Check(t => F.LogSoftmax(t[0], dim), [Randn(5, shape)]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(129)]
    [InlineData(1000)]
    public void RowKernelsAgreeAtEveryWidth(int n)
    {
        var x = Randn((ulong)n, n).ToArray();
        x[0] = float.NegativeInfinity; // exercises the p = 0 guard
        float shift = 0.5f;
        double sum = 0, weighted = 0;
        for (int i = 0; i < n; i++)
        {
            double e = Math.Exp(x[i] - shift);
            sum += e;
            weighted += e == 0 ? 0 : e * (x[i] - shift);
        }
        foreach (var width in new[] { 512, 256, 0 })
        {
            AssertClose([sum], [RowKernels.SumExp(x, shift, width)]);
            var (s, w) = RowKernels.SumExpWeighted(x, shift, width);
            AssertClose([sum, weighted], [s, w]);
            var dst = new float[n];
            RowKernels.ExpShiftScale(x, shift, 2f, dst, width);
            AssertClose([.. x.Select(v => 2 * Math.Exp(v - shift))], dst);
            RowKernels.EntropyGrad(x, shift, 0.25f, 0.3f, 1.5f, dst, width);
            AssertClose([.. x.Select(v => Math.Exp(v - shift - 0.25) == 0 ? 0 : -1.5 * Math.Exp(v - shift - 0.25) * (v - shift - 0.25 + 0.3))], dst);
        }
    }
}
