namespace RlhfSharp.Tensors.Tests;

public class CoreViewTests
{
    private static Tensor Range(params int[] shape) => Tensor.Arange(shape.Aggregate(1, (a, b) => a * b)).Reshape(shape);

    [Fact]
    public void ReshapeInfersOneDimAndKeepsOrder()
    {
        var x = Range(2, 3, 4);
        var y = x.Reshape(4, -1);
        Assert.Equal([4, 6], y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
        Assert.Equal([24], x.Reshape(-1).Shape);
        Assert.Equal([], Tensor.FromArray([5f]).Reshape().Shape);
        Assert.Equal(5f, Tensor.FromArray([5f]).Reshape().Item());
    }

    [Fact]
    public void ReshapeErrorsNameShapes()
    {
        var x = Range(2, 3);
        var ex = Assert.Throws<ShapeMismatchException>(() => x.Reshape(4, -1));
        Assert.Contains("Reshape", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => x.Reshape(-1, -1));
        Assert.Throws<ShapeMismatchException>(() => x.Reshape(7));
        Assert.Throws<ShapeMismatchException>(() => x.Reshape(-2, 3));
    }

    [Fact]
    public void ContiguousReshapeSharesStorage()
    {
        var x = Range(2, 3);
        var y = x.Reshape(3, 2);
        y.Select(0, 1).CopyFrom(Tensor.FromArray([-1f, -2f]));
        Assert.Equal([0f, 1f, -1f, -2f, 4f, 5f], x.ToArray());
    }

    [Fact]
    public void ReshapeOfNonContiguousCopiesInLogicalOrder()
    {
        var x = Range(2, 3);
        var t = x.T; // [3, 2]: 0 3 1 4 2 5
        Assert.False(t.IsContiguous);
        var y = t.Reshape(6);
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], y.ToArray());
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], t.View(2, 3).ToArray());
        y.CopyFrom(Tensor.Zeros(6));
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], x.ToArray()); // a copy, not a view
        var e = Tensor.FromArray([1f, 2f]).Reshape(2, 1).Expand(2, 3).Reshape(-1);
        Assert.Equal([1f, 1f, 1f, 2f, 2f, 2f], e.ToArray());
        var n = Range(4, 5).Narrow(1, 1, 3).Reshape(2, 6);
        Assert.Equal([1f, 2f, 3f, 6f, 7f, 8f, 11f, 12f, 13f, 16f, 17f, 18f], n.ToArray());
    }

    [Fact]
    public void TransposePermuteAndTShareStorage()
    {
        var x = Range(2, 3, 4);
        var p = x.Permute(2, 0, 1);
        Assert.Equal([4, 2, 3], p.Shape);
        foreach (var i in CoreRef.Indices(p.Shape))
            Assert.Equal(x[i[1], i[2], i[0]], p[i]);
        var t = x.Transpose(0, -1);
        Assert.Equal([4, 3, 2], t.Shape);
        Assert.Equal(x[1, 2, 3], t[3, 2, 1]);
        var m = Range(2, 3);
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], m.T.ToArray());
        m.T.Select(0, 1).CopyFrom(Tensor.Scalar(9f));
        Assert.Equal([0f, 9f, 2f, 3f, 9f, 5f], m.ToArray()); // row 1 of m.T is column 1 of m
        Assert.Throws<ShapeMismatchException>(() => x.T);
        Assert.Throws<ShapeMismatchException>(() => x.Permute(0, 0, 1));
        Assert.Throws<ShapeMismatchException>(() => x.Permute(0, 1));
    }

    [Fact]
    public void NarrowSliceSelect()
    {
        var x = Range(4, 5);
        Assert.Equal([6f, 7f, 8f, 11f, 12f, 13f], x.Narrow(0, 1, 2).Narrow(1, 1, 3).ToArray());
        Assert.Equal([3f, 4f, 8f, 9f, 13f, 14f, 18f, 19f], x.Slice(1, -2, 5).ToArray());
        Assert.Equal([15f, 16f, 17f, 18f, 19f], x.Slice(0, -1, 100).ToArray());
        Assert.Equal([0, 5], x.Slice(0, 3, 1).Shape);
        Assert.Equal([4f, 9f, 14f, 19f], x.Select(1, -1).ToArray());
        Assert.Equal([4], x.Select(1, 2).Shape);
        Assert.Equal(7f, x.Select(0, 1).Select(0, 2).Item());
        Assert.Equal([], x.Select(0, 1).Select(0, 2).Shape);
        x.Narrow(1, 2, 2).CopyFrom(Tensor.Full(-1f, 1, 2));
        Assert.Equal([0f, 1f, -1f, -1f, 4f], x.Select(0, 0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(1, 4, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Narrow(1, -1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Select(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Select(0, -5));
    }

    [Fact]
    public void UnsqueezeSqueezeFlatten()
    {
        var x = Range(2, 3);
        Assert.Equal([1, 2, 3], x.Unsqueeze(0).Shape);
        Assert.Equal([2, 3, 1], x.Unsqueeze(-1).Shape);
        Assert.Equal([2, 1, 3], x.Unsqueeze(1).Shape);
        Assert.Equal(x.ToArray(), x.Unsqueeze(1).ToArray());
        Assert.Equal([2, 3], x.Unsqueeze(1).Unsqueeze(0).Squeeze().Shape);
        Assert.Equal([2, 3], x.Unsqueeze(1).Squeeze(1).Shape);
        Assert.Equal([2, 3], x.Squeeze(0).Shape); // not size 1: unchanged
        Assert.Equal([1], Tensor.Scalar(3f).Unsqueeze(0).Shape);
        Assert.Equal([], Tensor.Ones(1, 1).Squeeze().Shape);
        var y = Range(2, 3, 4, 5);
        Assert.Equal([120], y.Flatten().Shape);
        Assert.Equal([2, 12, 5], y.Flatten(1, 2).Shape);
        Assert.Equal([2, 3, 20], y.Flatten(-2).Shape);
        Assert.Equal(y.ToArray(), y.Flatten(1).ToArray());
        var t = y.Transpose(1, 3).Flatten(0, 1);
        Assert.Equal([10, 4, 3], t.Shape);
        Assert.Equal(y[1, 2, 3, 4], t[(1 * 5) + 4, 3, 2]);
        Assert.Equal([1], Tensor.Scalar(2f).Flatten().Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Unsqueeze(3));

        // Unsqueeze, squeeze and flatten of a contiguous tensor are views of the same storage.
        x.Unsqueeze(1).Select(0, 1).CopyFrom(Tensor.Full(-1f, 1, 3));
        x.Unsqueeze(0).Squeeze().Select(1, 0).CopyFrom(Tensor.Full(-2f, 2));
        y.Flatten(1, 2).Select(0, 0).Select(0, 0).CopyFrom(Tensor.Scalar(-3f));
        Assert.Equal([-2f, 1f, 2f, -2f, -1f, -1f], x.ToArray());
        Assert.Equal(-3f, y[0, 0, 0, 0]);
    }

    [Fact]
    public void ExpandUsesStrideZeroAndSharesStorage()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3, 1);
        var e = x.Expand(2, 3, 4);
        Assert.Equal([2, 3, 4], e.Shape);
        Assert.Equal([0, 1, 0], e.Strides);
        Assert.Equal([1f, 1f, 1f, 1f, 2f, 2f, 2f, 2f, 3f, 3f, 3f, 3f], e.Select(0, 1).ToArray());
        Assert.Equal([3, 4], x.Expand(-1, 4).Shape);
        x.Narrow(0, 1, 1).CopyFrom(Tensor.Scalar(7f));
        Assert.Equal(7f, e[1, 1, 3]);
        var s = Tensor.Scalar(5f).Expand(2, 2);
        Assert.Equal([5f, 5f, 5f, 5f], s.ToArray());
        var ex = Assert.Throws<ShapeMismatchException>(() => x.Expand(2, 4));
        Assert.Contains("Expand", ex.Message);
        Assert.Contains("[3, 1]", ex.Message);
        Assert.Contains("[2, 4]", ex.Message);
        Assert.Throws<ShapeMismatchException>(() => x.Expand(4));
        Assert.Throws<ShapeMismatchException>(() => x.Expand(3, -2));
    }

    [Fact]
    public void ContiguousAndClone()
    {
        var x = Range(3, 4);
        Assert.Same(x, x.Contiguous());
        var t = x.T;
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
        Assert.Equal(t.ToArray(), c.ToArray());
        var k = x.Clone();
        k.CopyFrom(Tensor.Zeros(3, 4));
        Assert.Equal(Range(3, 4).ToArray(), x.ToArray());
        var ints = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal([1, 4, 2, 5, 3, 6], ints.T.Contiguous().ToIntArray());
        var bf = x.ToBFloat16().T.Clone();
        Assert.Equal(DType.BFloat16, bf.Dtype);
        Assert.Equal(t.ToArray(), bf.ToArray());
    }

    [Fact]
    public void ViewsOfIntAndBf16Tensors()
    {
        var ints = Tensor.FromArray([0, 1, 2, 3, 4, 5], 2, 3);
        Assert.Equal([1, 4], ints.Select(1, 1).ToIntArray());
        Assert.Equal([3, 4, 5, 3, 4, 5], ints.Narrow(0, 1, 1).Expand(2, 3).ToIntArray());
        var bf = Range(2, 3).ToBFloat16();
        Assert.Equal([2f, 5f], bf.Select(1, 2).ToArray());
        Assert.Equal(DType.BFloat16, bf.Reshape(3, 2).Dtype);
    }
}
