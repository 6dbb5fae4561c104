namespace RlhfSharp.Tensors.Tests;

public class CoreIndexingTests
{
    [Fact]
    public void GatherAlongEachDim()
    {
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        var i1 = Tensor.FromArray([2, 0, 1, 1, 0, 0, 0, 2, 2, 1, 1, 0, 0, 0, 0, 0], 2, 2, 4);
        var y = x.Gather(1, i1);
        Assert.Equal([2, 2, 4], y.Shape);
        foreach (var idx in CoreRef.Indices(y.Shape))
            Assert.Equal(x[idx[0], (int)i1[idx], idx[2]], y[idx]);
        var i2 = Tensor.FromArray([3, 3, 0, 1, 2, 0], 2, 3, 1);
        var z = x.Gather(-1, i2);
        Assert.Equal([3f, 7f, 8f, 13f, 18f, 20f], z.ToArray());
        var i0 = Tensor.FromArray([1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0], 1, 3, 4);
        Assert.Equal([1, 3, 4], x.Gather(0, i0).Shape);
        Assert.Equal(12f, x.Gather(0, i0)[0, 0, 0]);
        Assert.Equal(1f, x.Gather(0, i0)[0, 0, 1]);
        Assert.Throws<IndexOutOfRangeException>(() => x.Gather(2, Tensor.FromArray([4, 0, 0, 0, 0, 0], 2, 3, 1)));
        Assert.Throws<ArgumentException>(() => x.Gather(2, Tensor.Zeros(2, 3, 1)));
    }

    [Fact]
    public void GatherOfTransposedInput()
    {
        var x = Tensor.Arange(6).Reshape(2, 3).T; // [3, 2]: 0 3 / 1 4 / 2 5
        Assert.Equal([3f, 1f, 5f], x.Gather(1, Tensor.FromArray([1, 0, 1], 3, 1)).ToArray());
    }

    [Fact]
    public void IndexSelectRepeatedIndicesAccumulateGradient()
    {
        var w = Tensor.Arange(12).Reshape(4, 3);
        w.RequiresGrad = true;
        var idx = Tensor.FromArray([2, 0, 2, 2]);
        var y = w.IndexSelect(0, idx);
        Assert.Equal([4, 3], y.Shape);
        Assert.Equal([6f, 7f, 8f, 0f, 1f, 2f, 6f, 7f, 8f, 6f, 7f, 8f], y.ToArray());
        y.Backward(Tensor.Arange(12).Reshape(4, 3));
        Assert.Equal([3f, 4f, 5f, 0f, 0f, 0f, 0f + 6f + 9f, 1f + 7f + 10f, 2f + 8f + 11f, 0f, 0f, 0f], w.Grad!.ToArray());
        var cols = Tensor.Arange(12).Reshape(4, 3).IndexSelect(1, Tensor.FromArray([2, 2, 0]));
        Assert.Equal([2f, 2f, 0f, 5f, 5f, 3f, 8f, 8f, 6f, 11f, 11f, 9f], cols.ToArray());
        var bf = Tensor.Arange(12).Reshape(4, 3).ToBFloat16().IndexSelect(0, Tensor.FromArray([3, 1]));
        Assert.Equal(DType.Float32, bf.Dtype);
        Assert.Equal([9f, 10f, 11f, 3f, 4f, 5f], bf.ToArray());
        Assert.Equal([0, 3], Tensor.Zeros(4, 3).IndexSelect(0, Tensor.FromArray(Array.Empty<int>())).Shape);
        Assert.Throws<IndexOutOfRangeException>(() => w.IndexSelect(0, Tensor.FromArray([4])));
        Assert.Throws<IndexOutOfRangeException>(() => w.IndexSelect(0, Tensor.FromArray([-1])));
        Assert.Throws<ShapeMismatchException>(() => w.IndexSelect(0, Tensor.FromArray([0, 1], 1, 2)));
    }

    [Fact]
    public void MaskedFillWithInfinities()
    {
        float inf = float.PositiveInfinity, ninf = float.NegativeInfinity;
        var x = Tensor.FromArray([1f, inf, ninf, float.NaN, 2f, ninf], 2, 3);
        var mask = Tensor.FromArray([0, 1, 1, 1, 0, 0], 2, 3);
        Assert.Equal([1f, ninf, ninf, ninf, 2f, ninf], x.MaskedFill(mask, ninf).ToArray());
        Assert.Equal([1f, inf, inf, inf, 2f, ninf], x.MaskedFill(mask, inf).ToArray());
        Assert.Equal([1f, 0f, 0f, 0f, 2f, ninf], x.MaskedFill(mask, 0f).ToArray());
        var row = Tensor.FromArray([1f, 0f, 0f], 3); // broadcast over rows
        Assert.Equal([-5f, inf, ninf, -5f, 2f, ninf], x.MaskedFill(row, -5f).ToArray());
        var causal = Tensor.Triu(3, 3, 1);
        var s = Tensor.Zeros(2, 3, 3).MaskedFill(causal, ninf);
        Assert.Equal([0f, ninf, ninf, 0f, 0f, ninf, 0f, 0f, 0f], s.Select(0, 1).ToArray());
        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros(3).MaskedFill(Tensor.Ones(2, 3), 0f));
        Assert.Contains("MaskedFill", ex.Message);
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
    }

    [Fact]
    public void MaskedFillGradientIsZeroWhereFilled()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        x.RequiresGrad = true;
        var y = x.MaskedFill(Tensor.FromArray([1f, 0f], 2, 1), float.NegativeInfinity);
        y.Backward(Tensor.FromArray([float.PositiveInfinity, 5f, 6f, 7f], 2, 2));
        Assert.Equal([0f, 0f, 6f, 7f], x.Grad!.ToArray());
    }

    [Fact]
    public void WhereBroadcasts()
    {
        var cond = Tensor.FromArray([1, 0, 1], 3);
        var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = Tensor.Scalar(float.NegativeInfinity);
        Assert.Equal([1f, float.NegativeInfinity, 3f, 4f, float.NegativeInfinity, 6f], Tensor.Where(cond, a, b).ToArray());
        var c2 = Tensor.FromArray([0f, 1f], 2, 1);
        Assert.Equal([2, 3], Tensor.Where(c2, Tensor.Scalar(1f), Tensor.Zeros(3)).Shape);
        Assert.Equal([0f, 0f, 0f, 1f, 1f, 1f], Tensor.Where(c2, Tensor.Scalar(1f), Tensor.Zeros(3)).ToArray());
        a.RequiresGrad = true;
        var bb = Tensor.FromArray([7f, 8f, 9f]);
        bb.RequiresGrad = true;
        Tensor.Where(c2, a, bb).Backward(Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3));
        Assert.Equal([0f, 0f, 0f, 4f, 5f, 6f], a.Grad!.ToArray());
        Assert.Equal([1f, 2f, 3f], bb.Grad!.ToArray());
        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor.Where(cond, Tensor.Zeros(2, 3), Tensor.Zeros(2)));
        Assert.Contains("Where", ex.Message);
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void CatAndStackAllDtypes()
    {
        var a = Tensor.Arange(6).Reshape(2, 3);
        var b = Tensor.Arange(6, 10, 1).Reshape(2, 2);
        var c = Tensor.Cat([a, b], 1);
        Assert.Equal([2, 5], c.Shape);
        Assert.Equal([0f, 1f, 2f, 6f, 7f, 3f, 4f, 5f, 8f, 9f], c.ToArray());
        Assert.Equal([4, 3], Tensor.Cat([a, a.Mul(2f)], 0).Shape);
        Assert.Equal([0f, 3f, 0f, 1f, 4f, 1f, 2f, 5f, 2f], Tensor.Cat([a.T, a.Narrow(0, 0, 1).Reshape(3, 1)], 1).ToArray());
        var ia = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var ic = Tensor.Cat([ia, Tensor.FromArray([5, 6], 2, 1)], -1);
        Assert.Equal(DType.Int32, ic.Dtype);
        Assert.Equal([1, 2, 5, 3, 4, 6], ic.ToIntArray());
        var ist = Tensor.Stack([Tensor.FromArray([1, 2]), Tensor.FromArray([3, 4])], 1);
        Assert.Equal([2, 2], ist.Shape);
        Assert.Equal([1, 3, 2, 4], ist.ToIntArray());
        var h = Tensor.Cat([a.ToBFloat16(), b.ToBFloat16()], 1);
        Assert.Equal(DType.BFloat16, h.Dtype);
        Assert.Equal(c.ToArray(), h.ToArray());
        Assert.Equal(DType.BFloat16, Tensor.Stack([a.ToBFloat16(), a.ToBFloat16()]).Dtype);
        var s = Tensor.Stack([Tensor.Scalar(1f), Tensor.Scalar(2f)]);
        Assert.Equal([2], s.Shape);
        Assert.Equal([2, 3, 3], Tensor.Stack([a, a, a], -1).Shape);
        Assert.Equal(a[1, 2], Tensor.Stack([a, a.Mul(2f), a], -1)[1, 2, 0]);
        Assert.Equal(2 * a[1, 2], Tensor.Stack([a, a.Mul(2f), a], -1)[1, 2, 1]);
    }

    [Fact]
    public void CatAndStackGradients()
    {
        var a = Tensor.Arange(6).Reshape(2, 3);
        var b = Tensor.Ones(2, 2);
        a.RequiresGrad = true;
        var frozen = Tensor.Ones(2, 1);
        var y = Tensor.Cat([a, b, frozen], 1);
        Assert.True(y.RequiresGrad);
        y.Backward(Tensor.Arange(12).Reshape(2, 6));
        Assert.Equal([0f, 1f, 2f, 6f, 7f, 8f], a.Grad!.ToArray());
        Assert.Null(b.Grad);
        var ints = Tensor.Cat([Tensor.FromArray([1]), Tensor.FromArray([2])]);
        Assert.False(ints.RequiresGrad);
        var p = Tensor.FromArray([1f, 2f]);
        p.RequiresGrad = true;
        var st = Tensor.Stack([p, p.Mul(3f)], 1);
        st.Backward(Tensor.FromArray([1f, 10f, 100f, 1000f], 2, 2));
        Assert.Equal([31f, 3100f], p.Grad!.ToArray());
    }

    [Fact]
    public void CatAndStackErrors()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1));
        Assert.Contains("Cat", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[3, 3]", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => Tensor.Cat([Tensor.Zeros(2), Tensor.FromArray([1, 2])]));
        Assert.Throws<ArgumentException>(() => Tensor.Cat([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Cat([Tensor.Scalar(1f)]));
        var st = Assert.Throws<ShapeMismatchException>(() => Tensor.Stack([Tensor.Zeros(2), Tensor.Zeros(3)]));
        Assert.Contains("Stack", st.Message);
        Assert.Contains("[2]", st.Message);
        Assert.Contains("[3]", st.Message);
    }

    [Fact]
    public void TrilTriuMasks()
    {
        Assert.Equal([1f, 0f, 0f, 0f, 1f, 1f, 0f, 0f, 1f, 1f, 1f, 0f], Tensor.Tril(3, 4).ToArray());
        Assert.Equal([1f, 1f, 0f, 0f, 1f, 1f, 1f, 0f, 1f, 1f, 1f, 1f], Tensor.Tril(3, 4, 1).ToArray());
        Assert.Equal([0f, 1f, 1f, 1f, 0f, 0f, 1f, 1f, 0f, 0f, 0f, 1f], Tensor.Triu(3, 4, 1).ToArray());
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 0f, 1f, 1f, 1f], Tensor.Triu(3, 4, -1).ToArray());
        var x = Tensor.Arange(1, 13, 1).Reshape(2, 2, 3);
        Assert.Equal([1f, 0f, 0f, 4f, 5f, 0f, 7f, 0f, 0f, 10f, 11f, 0f], x.Tril().ToArray());
        Assert.Equal([1f, 2f, 3f, 0f, 5f, 6f, 7f, 8f, 9f, 0f, 11f, 12f], x.Triu().ToArray());
        Assert.Throws<ShapeMismatchException>(() => Tensor.Ones(3).Tril());
        Assert.Throws<ArgumentException>(() => Tensor.Tril(-1, 2));
    }

    [Fact]
    public void CreationFunctions()
    {
        Assert.Equal([0f, 1f, 2f], Tensor.Arange(3).ToArray());
        Assert.Equal([1f, 1.5f, 2f, 2.5f], Tensor.Arange(1f, 3f, 0.5f).ToArray());
        Assert.Equal([5f, 3f, 1f], Tensor.Arange(5f, 0f, -2f).ToArray());
        Assert.Equal([0], Tensor.Arange(3f, 1f, 1f).Shape);
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, 1f, 0f));
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, float.NaN, 1f));
        Assert.Equal([2.5f, 2.5f], Tensor.Full(2.5f, 2).ToArray());
        Assert.Equal([], Tensor.Full(2.5f).Shape);
        Assert.Equal(2.5f, Tensor.Full(2.5f).Item());
        Assert.Equal(new float[6], Tensor.Zeros(2, 3).ToArray());
        Assert.Equal([1f, 1f], Tensor.Ones(2, 1).ToArray());
        Assert.Equal([2, 1], Tensor.OnesLike(Tensor.Zeros(2, 1)).Shape);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        Assert.Throws<ArgumentException>(() => Tensor.Ones(-3));
        Assert.Throws<ArgumentException>(() => Tensor.Full(1f, -1, -1));
        var ex = Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2));
        Assert.Contains("FromArray", ex.Message);
        Assert.Contains("[2, 2]", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray([1, 2, 3], 2));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f], -1, -2));
        var fa = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal([2, 3], fa.Shape);
        Assert.Equal(6f, fa[1, 2]);
        var src = new[] { 1f, 2f };
        var t = Tensor.FromArray(src);
        src[0] = 9f;
        Assert.Equal(1f, t[0]); // FromArray copies
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2).Item());
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2).ToIntArray());
        Assert.Equal([1, -2], Tensor.FromArray([1.7f, -2.9f]).ToInt32().ToIntArray());
    }
}
