using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

public class CoreAutogradSemanticsTests
{
    private static Tensor Leaf(params float[] v)
    {
        var t = Tensor.FromArray(v);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void FanOutAccumulates()
    {
        var x = Leaf(1f, 2f, 3f);
        (x + x + x.Mul(x)).Sum().Backward();
        Assert.Equal([4f, 6f, 8f], x.Grad!.ToArray());
    }

    [Fact]
    public void DiamondGraph()
    {
        // a = eˣ, b = 2a, c = a·b = 2e^{2x}: dc/dx = 4e^{2x}
        var x = Leaf(0.5f);
        var a = x.Exp();
        var b = a * 2f;
        (a * b).Sum().Backward();
        Assert.Equal(4 * MathF.Exp(1f), x.Grad!.Item(), 1e-5f);
    }

    [Fact]
    public void DeepChainDoesNotOverflowTheStack()
    {
        var x = Leaf(1f, 2f);
        var y = x;
        for (int i = 0; i < 10_000; i++)
            y = i % 2 == 0 ? y.Add(0.5f) : y.Reshape(2).Mul(1f);
        y.Sum().Backward();
        Assert.Equal([1f, 1f], x.Grad!.ToArray());
    }

    [Fact]
    public void RequiresGradSetterErrors()
    {
        var x = Leaf(1f);
        var y = x * 2f;
        var ex = Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Contains("leaf", ex.Message);
        Assert.Contains("mul_scalar", ex.Message);
        Assert.Throws<InvalidOperationException>(() => Tensor.FromArray([1, 2]).RequiresGrad = true);
        var d = y.Detach();
        Assert.True(d.IsLeaf);
        d.RequiresGrad = true; // a detached copy is a new leaf
    }

    [Fact]
    public void BackwardErrors()
    {
        var x = Leaf(1f, 2f);
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.Contains("[2]", ex.Message);
        Assert.Throws<InvalidOperationException>(() => Tensor.Ones(1).Backward());
        var sm = Assert.Throws<ShapeMismatchException>(() => (x * 2f).Backward(Tensor.Ones(3)));
        Assert.Contains("[3]", sm.Message);
        Assert.Contains("[2]", sm.Message);
    }

    [Fact]
    public void OneElementNonScalarAndRank0Backward()
    {
        var x = Tensor.Scalar(3f);
        x.RequiresGrad = true;
        (x * x).Backward();
        Assert.Equal([], x.Grad!.Shape);
        Assert.Equal(6f, x.Grad.Item());
        var y = Leaf(2f);
        y.Reshape(1, 1).Mul(4f).Backward();
        Assert.Equal(4f, y.Grad!.Item());
        var z = Leaf(5f);
        z.Backward();
        Assert.Equal(1f, z.Grad!.Item());
    }

    [Fact]
    public void NonFloatSeedGradientAccumulatesAsFloat()
    {
        var x = Leaf(1f, 2f);
        x.Mul(3f).Backward(Tensor.FromArray([1, 2]));
        x.Mul(3f).Backward(Tensor.FromArray([1, 1]));
        Assert.Equal(DType.Float32, x.Grad!.Dtype);
        Assert.Equal([6f, 9f], x.Grad.ToArray());
    }

    [Fact]
    public void BackwardThroughViewsOfALeaf()
    {
        var w = Tensor.Arange(6).Reshape(2, 3).Detach();
        w.RequiresGrad = true;
        var v = w.T.Narrow(0, 1, 2); // [2, 2]: w[:, 1:3] transposed
        v.Mul(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2)).Sum().Backward();
        Assert.Equal([0f, 1f, 3f, 0f, 2f, 4f], w.Grad!.ToArray());
    }

    [Fact]
    public void LeafUsedUnderGradAndNoGrad()
    {
        var w = Leaf(1f, 2f);
        Tensor frozen;
        using (GradMode.NoGrad())
            frozen = w * 10f;
        Assert.False(frozen.RequiresGrad);
        (w * 3f + frozen).Sum().Backward();
        Assert.Equal([3f, 3f], w.Grad!.ToArray());
        using (GradMode.NoGrad())
        using (GradMode.NoGrad())
            Assert.False(GradMode.IsEnabled);
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void UnusedLeafGetsNoGradientAndFrozenInputsNone()
    {
        var a = Leaf(1f);
        var b = Leaf(2f);
        var c = Tensor.FromArray([3f]);
        (a * c).Sum().Backward();
        Assert.Null(b.Grad);
        Assert.Null(c.Grad);
        Assert.Equal(3f, a.Grad!.Item());
    }

    [Fact]
    public void GradientOfExpandedLeafSumsOverBroadcast()
    {
        var b = Leaf(1f, 2f, 3f);
        var e = b.Reshape(3, 1).Expand(2, 3, 4);
        e.Sum().Backward();
        Assert.Equal([8f, 8f, 8f], b.Grad!.ToArray());
    }

    [Fact]
    public void ViewsShareStorageButBackwardDoesNotTouchData()
    {
        var w = Leaf(1f, 2f, 3f, 4f);
        var r = w.Reshape(2, 2);
        r.Sum().Backward();
        Assert.Equal([1f, 2f, 3f, 4f], w.ToArray());
        Assert.Equal([1f, 1f, 1f, 1f], w.Grad!.ToArray());
        Assert.NotSame(w.Grad, r);
    }
}
