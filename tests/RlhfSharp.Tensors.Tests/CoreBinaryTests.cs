namespace RlhfSharp.Tensors.Tests;

public class CoreBinaryTests
{
    public static TheoryData<int[], int[]> ShapePairs => new()
    {
        { [3], [3] },
        { [2, 3], [3] },
        { [2, 1, 5], [4, 1] },
        { [1], [7, 3] },
        { [], [2, 3] },
        { [4, 3], [] },
        { [], [] },
        { [3, 1, 17], [3, 5, 1] },
        { [1, 1, 1], [2, 1, 3] },
        { [129], [1] },
        { [2, 3, 4, 5], [3, 1, 5] },
    };

    private static readonly (string Name, Func<Tensor, Tensor, Tensor> Op, Func<float, float, float> Ref)[] Ops =
    [
        ("add", (a, b) => a.Add(b), (x, y) => x + y),
        ("sub", (a, b) => a.Sub(b), (x, y) => x - y),
        ("mul", (a, b) => a.Mul(b), (x, y) => x * y),
        ("div", (a, b) => a.Div(b), (x, y) => x / y),
        ("maximum", (a, b) => a.Maximum(b), MathF.Max),
        ("minimum", (a, b) => a.Minimum(b), MathF.Min),
        ("operator+", (a, b) => a + b, (x, y) => x + y),
        ("operator-", (a, b) => a - b, (x, y) => x - y),
        ("operator*", (a, b) => a * b, (x, y) => x * y),
        ("operator/", (a, b) => a / b, (x, y) => x / y),
    ];

    private static void CheckAll(Tensor a, Tensor b)
    {
        foreach (var (name, op, reference) in Ops)
        {
            var y = op(a, b);
            Assert.Equal(CoreRef.BroadcastShape(a.Shape, b.Shape), y.Shape);
            CoreRef.Close(CoreRef.Binary(a, b, reference), y.ToArray(), 0, 0, name);
        }
    }

    [Theory]
    [MemberData(nameof(ShapePairs))]
    public void BroadcastingMatchesNaiveReference(int[] sa, int[] sb)
    {
        var g = new Generator(11);
        var a = g.Normal(sa);
        var b = g.Uniform(sb, 0.5f, 2f);
        CheckAll(a, b);
        CheckAll(b, a);
    }

    [Fact]
    public void NonContiguousInputs()
    {
        var g = new Generator(12);
        var a = g.Normal([5, 3]).T;                      // [3, 5] transposed
        var b = g.Uniform([3, 1], 0.5f, 2f).Expand(3, 5); // stride-0 columns
        CheckAll(a, b);
        CheckAll(b, a);
        var c = g.Normal([4, 6, 2]).Permute(2, 0, 1).Narrow(2, 1, 3); // [2, 4, 3], odd strides
        var d = g.Uniform([4, 3], 0.5f, 2f);
        CheckAll(c, d);
        CheckAll(d.T.Contiguous().T, c);
        var e = Tensor.Scalar(2.5f).Expand(4, 3);
        CheckAll(c, e);
    }

    [Fact]
    public void ScalarForms()
    {
        var x = Tensor.FromArray([1f, -2f, 3f, 7f], 2, 2);
        Assert.Equal([3f, 0f, 5f, 9f], (x + 2f).ToArray());
        Assert.Equal([3f, 0f, 5f, 9f], (2f + x).ToArray());
        Assert.Equal([-1f, -4f, 1f, 5f], (x - 2f).ToArray());
        Assert.Equal([1f, 4f, -1f, -5f], (2f - x).ToArray());
        Assert.Equal([3f, -6f, 9f, 21f], (x * 3f).ToArray());
        Assert.Equal([3f, -6f, 9f, 21f], (3f * x).ToArray());
        Assert.Equal([1f / 3f, -2f / 3f, 1f, 7f / 3f], (x / 3f).ToArray());
        Assert.Equal([1f / 3f, -2f / 3f, 1f, 7f / 3f], x.Div(3f).ToArray());
        Assert.Equal([6f, -3f, 2f, 6f / 7f], (6f / x).ToArray());
        Assert.Equal([-1f, 2f, -3f, -7f], (-x).ToArray());
        Assert.Equal([-1f, -4f, 1f, 5f], x.Sub(2f).ToArray());
        Assert.Equal(DType.Float32, (Tensor.FromArray([1, 2]) * 2f).Dtype);
        Assert.Equal([2f, 4f], (Tensor.FromArray([1, 2]) * 2f).ToArray());
    }

    [Fact]
    public void MixedDtypesComputeInFloat()
    {
        var i = Tensor.FromArray([1, 2, 3]);
        var f = Tensor.FromArray([0.5f, 0.25f, 2f]);
        Assert.Equal([1.5f, 2.25f, 5f], (i + f).ToArray());
        var h = Tensor.FromArray([1.5f, 3f, -0.75f]).ToBFloat16();
        Assert.Equal([0.75f, 0.75f, -1.5f], (h * f).ToArray());
    }

    [Fact]
    public void EmptyOperands()
    {
        var e = Tensor.Zeros(2, 0);
        Assert.Equal([2, 0], (e + Tensor.Ones(2, 1)).Shape);
        Assert.Equal([2, 0], (Tensor.Ones(1) * e.T.T).Shape);
        Assert.Equal([0, 3], (Tensor.Zeros(0, 1) - Tensor.Ones(3)).Shape);
    }

    [Fact]
    public void MaximumMinimumPropagateNaNAndInf()
    {
        var a = Tensor.FromArray([float.NaN, 1f, float.NegativeInfinity]);
        var b = Tensor.FromArray([0f, float.PositiveInfinity, 2f]);
        var mx = a.Maximum(b).ToArray();
        Assert.True(float.IsNaN(mx[0]));
        Assert.Equal(float.PositiveInfinity, mx[1]);
        Assert.Equal(2f, mx[2]);
        var mn = a.Minimum(b).ToArray();
        Assert.True(float.IsNaN(mn[0]));
        Assert.Equal([1f, float.NegativeInfinity], mn[1..]);
    }

    [Fact]
    public void SumToShapeReducesBroadcastDims()
    {
        var g = Tensor.Arange(24).Reshape(2, 3, 4);
        Assert.Equal([3, 1], g.SumToShape([3, 1]).Shape);
        Assert.Equal([60f, 92f, 124f], g.SumToShape([3, 1]).ToArray()); // Σ_{i,k} 12i + 4j + k = 32j + 60
        Assert.Equal(276f, g.SumToShape([]).Item());
        Assert.Equal([12f, 14f, 16f, 18f, 20f, 22f, 24f, 26f, 28f, 30f, 32f, 34f], g.SumToShape([3, 4]).ToArray());
        Assert.Throws<ShapeMismatchException>(() => g.SumToShape([2, 2, 3, 4]));
        Assert.Throws<ShapeMismatchException>(() => g.SumToShape([2, 4]));
    }
}
