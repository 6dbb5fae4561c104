namespace RlhfSharp.Tensors.Tests;

public class CoreReductionTests
{
    /// <summary>Naive sum/mean over dims by walking every index in double.</summary>
    private static float[] NaiveReduce(Tensor x, int[] dims, bool mean)
    {
        var shape = x.Shape;
        var nd = dims.Select(d => d < 0 ? d + shape.Length : d).ToHashSet();
        var kept = shape.Select((s, i) => nd.Contains(i) ? 1 : s).ToArray();
        var acc = new double[kept.Aggregate(1, (a, b) => a * b)];
        var keptStrides = new int[kept.Length];
        for (int i = kept.Length - 1, s = 1; i >= 0; i--)
        {
            keptStrides[i] = s;
            s *= kept[i];
        }
        int count = nd.Aggregate(1, (a, d) => a * shape[d]);
        foreach (var idx in CoreRef.Indices(shape))
        {
            int o = 0;
            for (int i = 0; i < idx.Length; i++)
                o += nd.Contains(i) ? 0 : idx[i] * keptStrides[i];
            acc[o] += x[idx];
        }
        return acc.Select(v => (float)(mean ? v / count : v)).ToArray();
    }

    public static TheoryData<int[], int[]> ReduceCases => new()
    {
        { [2, 3, 4], [0] },      // prefix
        { [2, 3, 4], [0, 1] },   // prefix
        { [2, 3, 4], [2] },      // suffix
        { [2, 3, 4], [1, 2] },   // suffix
        { [2, 3, 4], [1] },      // middle
        { [2, 3, 4, 5], [1, 2] },
        { [2, 3, 4, 5], [0, 2] },
        { [2, 3, 4, 5], [0, 3] },
        { [2, 3, 4], [0, 1, 2] }, // all
        { [5, 1, 3], [-2] },
        { [17], [0] },
        { [3, 5], [-1, 0] },
    };

    [Theory]
    [MemberData(nameof(ReduceCases))]
    public void SumAndMeanMatchNaive(int[] shape, int[] dims)
    {
        var g = new Generator(21);
        foreach (var x in new[] { g.Normal(shape), g.Normal([.. shape.Reverse()]).Permute([.. Enumerable.Range(0, shape.Length).Reverse()]) })
        {
            var kept = shape.Select((s, i) => dims.Any(d => (d < 0 ? d + shape.Length : d) == i) ? 1 : s).ToArray();
            var squeezed = shape.Where((s, i) => !dims.Any(d => (d < 0 ? d + shape.Length : d) == i)).ToArray();
            var s1 = x.Sum(dims, keepDim: true);
            Assert.Equal(kept, s1.Shape);
            CoreRef.Close(NaiveReduce(x, dims, false), s1.ToArray(), 1e-5, 1e-5, "sum");
            var s2 = x.Sum(dims);
            Assert.Equal(squeezed, s2.Shape);
            CoreRef.Close(NaiveReduce(x, dims, false), s2.ToArray(), 1e-5, 1e-5, "sum");
            var m = x.Mean(dims, keepDim: true);
            Assert.Equal(kept, m.Shape);
            CoreRef.Close(NaiveReduce(x, dims, true), m.ToArray(), 1e-6, 1e-5, "mean");
            Assert.Equal(squeezed, x.Mean(dims).Shape);
        }
    }

    [Fact]
    public void SumAllAndScalars()
    {
        var x = Tensor.Arange(10).Reshape(2, 5);
        Assert.Equal([], x.Sum().Shape);
        Assert.Equal(45f, x.Sum().Item());
        Assert.Equal(4.5f, x.Mean().Item());
        var s = Tensor.Scalar(3f);
        Assert.Equal(3f, s.Sum().Item());
        Assert.Equal(3f, s.Mean().Item());
        Assert.Equal(3f, s.Max().Item());
        Assert.Equal([0f, 0f], Tensor.Zeros(2, 0).Sum(1).ToArray());
        Assert.Equal([5f, 7f, 9f], Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3).Sum(0).ToArray());
    }

    [Fact]
    public void MaxReturnsFirstIndexOnTies()
    {
        var x = Tensor.FromArray([1f, 3f, 3f, 2f, 5f, 5f, 5f, 0f], 2, 4);
        var (v, i) = x.Max(1);
        Assert.Equal([3f, 5f], v.ToArray());
        Assert.Equal([1, 0], i.ToIntArray());
        Assert.Equal(DType.Int32, i.Dtype);
        var (v0, i0) = x.Max(0, keepDim: true);
        Assert.Equal([1, 4], v0.Shape);
        Assert.Equal([5f, 5f, 5f, 2f], v0.ToArray());
        Assert.Equal([1, 4], i0.Shape);
        Assert.Equal([1, 1, 1, 0], i0.ToIntArray());
        Assert.Equal(5f, x.Max().Item());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void MaxOverAnyDimMatchesNaive(int dim)
    {
        var g = new Generator(22);
        var x = CoreRef.Distinct(g, 3, 4, 5);
        var (v, idx) = x.Max(dim);
        int d = dim < 0 ? dim + 3 : dim;
        var outShape = x.Shape.Where((_, i) => i != d).ToArray();
        Assert.Equal(outShape, v.Shape);
        foreach (var o in CoreRef.Indices(outShape))
        {
            var full = o.ToList();
            full.Insert(d, 0);
            int best = 0;
            for (int k = 1; k < x.Size(d); k++)
            {
                full[d] = k;
                var bestIdx = full.ToArray();
                bestIdx[d] = best;
                if (x[[.. full]] > x[bestIdx])
                    best = k;
            }
            full[d] = best;
            Assert.Equal(x[[.. full]], v[o]);
            Assert.Equal(best, (int)idx[o]);
        }

        // The gradient lands on the arg-max positions only.
        x.RequiresGrad = true;
        var vals = x.Max(dim).Values;
        var w = g.Normal(vals.Shape);
        vals.Mul(w).Sum().Backward();
        var grad = x.Grad!;
        foreach (var o in CoreRef.Indices(outShape))
        {
            for (int k = 0; k < x.Size(d); k++)
            {
                var full = o.ToList();
                full.Insert(d, k);
                Assert.Equal(k == (int)idx[o] ? w[o] : 0f, grad[[.. full]]);
            }
        }
    }

    [Fact]
    public void MaxPropagatesNaN()
    {
        var (v, i) = Tensor.FromArray([1f, float.NaN, 3f]).Max(0);
        Assert.True(float.IsNaN(v.Item()));
        Assert.Equal(1, i.ToIntArray()[0]);
    }

    [Fact]
    public void LogSumExpIsStable()
    {
        var x = Tensor.FromArray([1e4f, 1e4f, -1e4f, -1e4f - 1f, 0f, 1f], 3, 2);
        var y = x.LogSumExp(1).ToArray();
        Assert.Equal(1e4f + MathF.Log(2f), y[0], 1e-3f);
        Assert.Equal(-1e4f + (float)Math.Log(1 + Math.Exp(-1)), y[1], 1e-3f);
        Assert.Equal((float)Math.Log(1 + Math.E), y[2], 1e-6f);
        Assert.Equal([3, 1], x.LogSumExp(1, keepDim: true).Shape);
        var all = x.LogSumExp([0, 1]);
        Assert.Equal([], all.Shape);
        Assert.Equal(1e4f + MathF.Log(2f), all.Item(), 1e-3f);
    }

    [Fact]
    public void LogSumExpOfMinusInfinityRows()
    {
        float ninf = float.NegativeInfinity;
        var x = Tensor.FromArray([ninf, ninf, ninf, 0f, 1f, ninf], 2, 3);
        x.RequiresGrad = true;
        var y = x.LogSumExp(1);
        Assert.Equal(ninf, y.ToArray()[0]);
        Assert.Equal((float)Math.Log(1 + Math.E), y.ToArray()[1], 1e-6f);
        y.Backward(Tensor.Ones(2));
        var g = x.Grad!.ToArray();
        Assert.Equal([0f, 0f, 0f], g[..3]); // a fully masked row has no gradient, not NaN
        Assert.Equal((float)(1 / (1 + Math.E)), g[3], 1e-6f);
        Assert.Equal((float)(Math.E / (1 + Math.E)), g[4], 1e-6f);
        Assert.Equal(0f, g[5]);
        var p = Tensor.FromArray([float.PositiveInfinity, 0f]).LogSumExp(0);
        Assert.Equal(float.PositiveInfinity, p.Item());
    }

    [Fact]
    public void ReductionDimErrorsNameDimAndRank()
    {
        var x = Tensor.Zeros(2, 3);
        foreach (var act in new Action[] { () => x.Sum(2), () => x.Mean(-3), () => x.Max(2), () => x.LogSumExp(5) })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(act);
            Assert.Contains("rank 2", ex.Message);
            Assert.Contains("dim ", ex.Message);
        }
        Assert.Throws<ArgumentException>(() => x.Sum([0, 0]));
        Assert.Throws<ArgumentException>(() => x.Sum([1, -1]));
    }
}
