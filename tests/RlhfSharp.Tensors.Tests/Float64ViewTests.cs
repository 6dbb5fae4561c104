using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Float64 through views, copies and gathers (exact), and through ops without a float64 path (read as float32).</summary>
public class Float64ViewTests
{
    private const int A = 3, B = 4, C = 5;

    /// <summary>Random doubles that float32 cannot hold, [A, B, C] row-major.</summary>
    private static double[] Data(int seed = 7)
    {
        var rng = new Random(seed);
        var data = new double[A * B * C];
        for (int i = 0; i < data.Length; i++)
            data[i] = ((rng.NextDouble() - 0.5) * 1e6) + 1e-9;
        data[1] = 1e-300;
        data[2] = 1.0 + Math.Pow(2, -52);
        data[3] = -0.0;
        return data;
    }

    private static double At(double[] data, int a, int b, int c) => data[(((a * B) + b) * C) + c];

    /// <summary>Asserts the view's doubles, row-major, equal expected(index) bit for bit.</summary>
    private static void AssertView(Tensor view, int[] shape, Func<int[], double> expected)
    {
        Assert.Equal(DType.Float64, view.Dtype);
        Assert.Equal(shape, view.Shape);
        var got = view.ToDoubleArray();
        int p = 0;
        foreach (var idx in CoreRef.Indices(shape))
        {
            double e = expected(idx);
            Assert.True(BitConverter.DoubleToUInt64Bits(e) == BitConverter.DoubleToUInt64Bits(got[p]), $"[{string.Join(", ", idx)}]: expected {e:R}, got {got[p]:R}");
            p++;
        }
        Assert.Equal(got, view.Contiguous().ToDoubleArray());
        Assert.Equal(got, view.Clone().ToDoubleArray());
    }

    [Fact]
    public void ViewsGiveTheViewedDoubles()
    {
        var data = Data();
        var t = Tensor.FromArray(data, A, B, C);
        AssertView(t.Reshape(B, A * C), [B, A * C], i => data[(i[0] * A * C) + i[1]]);
        AssertView(t.View(-1), [A * B * C], i => data[i[0]]);
        AssertView(t.Flatten(1), [A, B * C], i => data[(i[0] * B * C) + i[1]]);
        AssertView(t.Transpose(0, 2), [C, B, A], i => At(data, i[2], i[1], i[0]));
        AssertView(t.Permute(1, 2, 0), [B, C, A], i => At(data, i[2], i[0], i[1]));
        AssertView(t.Narrow(1, 1, 2), [A, 2, C], i => At(data, i[0], i[1] + 1, i[2]));
        AssertView(t.Slice(2, -3, -1), [A, B, 2], i => At(data, i[0], i[1], i[2] + 2));
        AssertView(t.Select(1, 2), [A, C], i => At(data, i[0], 2, i[1]));
        AssertView(t.Select(0, -1).T, [C, B], i => At(data, A - 1, i[1], i[0]));
        AssertView(t.Unsqueeze(1), [A, 1, B, C], i => At(data, i[0], i[2], i[3]));
        AssertView(t.Narrow(0, 1, 1).Squeeze(), [B, C], i => At(data, 1, i[0], i[1]));
        AssertView(t.Narrow(0, 1, 1).Squeeze(0), [B, C], i => At(data, 1, i[0], i[1]));
        AssertView(t.Select(2, 3).Unsqueeze(0).Expand(2, A, B), [2, A, B], i => At(data, i[1], i[2], 3));
        AssertView(t.Narrow(2, 4, 1).Expand(-1, -1, 3), [A, B, 3], i => At(data, i[0], i[1], 4));
        // Reshape of a non-contiguous view copies first.
        AssertView(t.Transpose(0, 1).Reshape(-1, C), [A * B, C], i => At(data, i[0] % A, i[0] / A, i[1]));
        AssertView(t.Transpose(1, 2).Contiguous(), [A, C, B], i => At(data, i[0], i[2], i[1]));
    }

    [Fact]
    public void ViewsShareStorageAndCopiesDoNot()
    {
        var t = Tensor.FromArray(Data(), A, B, C);
        var view = t.Transpose(0, 2);
        Assert.Same(t.D, view.D);
        Assert.Same(t.D, t.Detach().D);
        Assert.Same(t, t.Contiguous());
        var copy = view.Contiguous();
        Assert.True(copy.IsContiguous);
        Assert.NotSame(t.D, copy.D);
        Assert.NotSame(t.D, t.Clone().D);
        Assert.Equal(DType.Float64, t.Detach().Dtype);
        Assert.False(t.Clone().RequiresGrad);
    }

    [Fact]
    public void IndexSelectIsTheSameGatherAsOnTheArray()
    {
        var data = Data();
        var t = Tensor.FromArray(data, A, B, C);
        var rows = new[] { 2, 0, 2, 1 };
        var cols = new[] { 3, 3, 0 };
        var y0 = t.IndexSelect(0, Tensor.FromArray(rows));
        Assert.False(y0.RequiresGrad);
        AssertView(y0, [rows.Length, B, C], i => At(data, rows[i[0]], i[1], i[2]));
        AssertView(t.IndexSelect(1, Tensor.FromArray(cols)), [A, cols.Length, C], i => At(data, i[0], cols[i[1]], i[2]));
        AssertView(t.IndexSelect(-1, Tensor.FromArray(cols)), [A, B, cols.Length], i => At(data, i[0], i[1], cols[i[2]]));
        // A non-contiguous input and a strided index.
        var idx = Tensor.FromArray([4, 9, 0, 9, 1, 9], 3, 2).Select(1, 0); // [4, 0, 1]
        AssertView(t.Transpose(0, 2).IndexSelect(0, idx), [3, B, A], i => At(data, i[2], i[1], new[] { 4, 0, 1 }[i[0]]));
        AssertView(t.IndexSelect(0, Tensor.FromArray(Array.Empty<int>())), [0, B, C], _ => 0);
        Assert.Throws<IndexOutOfRangeException>(() => t.IndexSelect(0, Tensor.FromArray([A])));
        Assert.Throws<ArgumentException>(() => t.IndexSelect(0, Tensor.FromArray([0.0])));
    }

    [Fact]
    public void GatherIsExact()
    {
        var data = Data();
        var t = Tensor.FromArray(data, A, B, C);
        var rng = new Random(8);
        var picks = Enumerable.Range(0, A * 2 * C).Select(_ => rng.Next(B)).ToArray();
        var y = t.Gather(1, Tensor.FromArray(picks, A, 2, C));
        AssertView(y, [A, 2, C], i => At(data, i[0], picks[(((i[0] * 2) + i[1]) * C) + i[2]], i[2]));
        var ex = Assert.Throws<IndexOutOfRangeException>(() => t.Gather(2, Tensor.FromArray(Enumerable.Repeat(C, A * B).ToArray(), A, B, 1)));
        Assert.Contains("Gather", ex.Message);
    }

    [Fact]
    public void CatAndStackKeepTheDoubles()
    {
        var data = Data();
        var t = Tensor.FromArray(data, A, B, C);
        var parts = new[] { t.Narrow(1, 0, 1), t.Narrow(1, 1, 3).Transpose(0, 2).Transpose(0, 2) };
        AssertView(Tensor.Cat(parts, 1), [A, B, C], i => At(data, i[0], i[1], i[2]));
        AssertView(Tensor.Cat([t.Select(0, 2), t.Select(0, 0)], 0), [2 * B, C], i => At(data, i[0] < B ? 2 : 0, i[0] % B, i[1]));
        AssertView(Tensor.Stack([t.Select(2, 1), t.Select(2, 4)], -1), [A, B, 2], i => At(data, i[0], i[1], i[2] == 0 ? 1 : 4));
        var mixed = Assert.Throws<ShapeMismatchException>(() => Tensor.Cat([t, Tensor.Zeros(A, B, C)]));
        Assert.Contains("Float64", mixed.Message);
    }

    [Fact]
    public void ElementsToStringAndDtypeConversionsOfViews()
    {
        var t = Tensor.FromArray([1.0 + Math.Pow(2, -52), 0.25, -3.5, 1e-300], 2, 2);
        Assert.Equal(1f, t[0, 0]);
        Assert.Equal(-3.5f, t.T[0, 1]);
        Assert.Equal(1e-300, t.T.Select(0, 1).Select(0, 1).ItemDouble());
        Assert.Equal("Tensor([2, 2], Float64) [1, 0.25, -3.5, 1E-300]", t.ToString());
        Assert.StartsWith("Tensor([100], Float64)", Tensor.FromArray(new double[100]).ToString());
        Assert.Equal([1f, -3.5f, 0.25f, 0f], t.T.Float().ToArray());
        Assert.Equal([0.25, 1e-300], t.T.Select(0, 1).Double().ToDoubleArray());
    }

    [Fact]
    public void Float64CannotRequireGrad()
    {
        var t = Tensor.FromArray([1.0, 2.0]);
        var ex = Assert.Throws<InvalidOperationException>(() => t.RequiresGrad = true);
        Assert.Contains("Float64", ex.Message);
        Assert.Contains("Float()", ex.Message);
        Assert.False(t.RequiresGrad);
        t.RequiresGrad = false; // turning it off is fine
        var f = t.Float();
        f.RequiresGrad = true;
        Assert.True(f.RequiresGrad);
    }

    [Fact]
    public void UnsupportedOpsNameThemselves()
    {
        var t = Tensor.FromArray([1.0, 2.0, 3.0]);
        var toInts = Assert.Throws<InvalidOperationException>(() => t.ToIntArray());
        Assert.Contains("ToIntArray", toInts.Message);
        Assert.Contains("Float64", toInts.Message);
        var inPlace = Assert.Throws<InvalidOperationException>(() => t.CopyInPlace(Tensor.Zeros(3)));
        Assert.Contains("CopyInPlace", inPlace.Message);
        Assert.Contains("Float64", inPlace.Message);
        var opt = Assert.Throws<ArgumentException>(() => new Sgd([t], lr: 0.1f));
        Assert.Contains("Sgd", opt.Message);
        Assert.Contains("float32", opt.Message);
        var span = Assert.Throws<InvalidOperationException>(() => t.Span.Length);
        Assert.Contains("Float()", span.Message);
    }

    [Fact]
    public void OpsWithoutAFloat64PathReadItAsFloat32()
    {
        var data = Data();
        var t = Tensor.FromArray(data, A, B, C);
        var f = t.Float();
        void Same(Tensor expected, Tensor actual)
        {
            Assert.Equal(DType.Float32, actual.Dtype);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.ToArray(), actual.ToArray());
        }
        // Element-wise arithmetic, Exp/Log/…, Where/MaskedFill and Sum/Mean compute in float64 (Float64ComputeTests).
        Same(f.Max(2).Values, t.Max(2).Values);
        Same(f.Max(), t.Max());
        Same(f.Tanh(), t.Tanh());
        Same(f.Sigmoid(), t.Sigmoid());
        Same(f.Rsqrt(), t.Rsqrt());
        Same(f.LogSumExp(1), t.LogSumExp(1));
        Same(F.Softmax(f, -1), F.Softmax(t, -1));
        // A float64 operand is converted to a contiguous float32 copy (so a transposed view is no longer a transpose flag).
        Same(f.Matmul(t.Transpose(1, 2).Float()), t.Matmul(t.Transpose(1, 2)));
        Same(f.Select(0, 0).Matmul(t.Select(0, 1).T.Float()), f.Select(0, 0).Matmul(t.Select(0, 1).T)); // float64 right operand
        Same(f.Select(0, 0).Matmul(f.Select(0, 1).T), t.Select(0, 0).Matmul(f.Select(0, 1).T)); // float64 left operand
        Same(f.Select(0, 0).Matmul(f.Select(0, 1).T.ToBFloat16()), t.Select(0, 0).Matmul(f.Select(0, 1).T.ToBFloat16())); // with a bf16 right operand
        Same(F.Embedding(f.Select(0, 1), Tensor.FromArray([3, 0, 3])), F.Embedding(t.Select(0, 1), Tensor.FromArray([3, 0, 3])));
        // A Float64 mask or condition only selects: float32 values stay float32.
        var mask = Tensor.FromArray([0.0, 1e-300, double.NaN, -0.0, 2.0]);
        Same(Tensor.Zeros(C).MaskedFill(Tensor.FromArray([0f, 1f, 1f, 0f, 1f]), 7f), Tensor.Zeros(C).MaskedFill(mask, 7f));
        Same(Tensor.Where(Tensor.FromArray([0f, 1f, 1f, 0f, 1f]), f, f.Neg()), Tensor.Where(mask, f, f.Neg()));
    }
}
