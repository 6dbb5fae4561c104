using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

public class AutogradTests
{
    [Fact]
    public void ChainRuleThroughBroadcastAdd()
    {
        var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = Tensor.FromArray([10f, 20f, 30f], 3);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        var y = (a * b).Sum();
        y.Backward();
        Assert.Equal(1 * 10 + 2 * 20 + 3 * 30 + 4 * 10 + 5 * 20 + 6 * 30, y.Item());
        Assert.Equal([10f, 20f, 30f, 10f, 20f, 30f], a.Grad!.ToArray());
        Assert.Equal([5f, 7f, 9f], b.Grad!.ToArray());
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var w = Tensor.FromArray([2f]);
        w.RequiresGrad = true;
        (w * w).Sum().Backward();
        (w * 3f).Sum().Backward();
        Assert.Equal(4f + 3f, w.Grad!.Item());
    }

    [Fact]
    public void SecondBackwardThroughFreedGraphThrowsClearError()
    {
        var w = Tensor.FromArray([2f]);
        w.RequiresGrad = true;
        var y = (w.Exp() * w).Sum();
        y.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("already freed", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
    }

    [Fact]
    public void RetainGraphAllowsSecondBackward()
    {
        var w = Tensor.FromArray([2f]);
        w.RequiresGrad = true;
        var y = (w * w).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(8f, w.Grad!.Item());
    }

    [Fact]
    public void NoGradAndDetachRecordNothing()
    {
        var w = Tensor.FromArray([1f, 2f]);
        w.RequiresGrad = true;
        using (GradMode.NoGrad())
        {
            Assert.False((w * 2f).RequiresGrad);
        }
        Assert.True((w * 2f).RequiresGrad);
        Assert.False(w.Detach().Mul(2f).RequiresGrad);
    }

    [Fact]
    public void BackwardWithSuppliedGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]);
        x.RequiresGrad = true;
        var y = x * x;
        y.Backward(Tensor.FromArray([1f, 0f, 2f]));
        Assert.Equal([2f, 0f, 12f], x.Grad!.ToArray());
    }

    [Fact]
    public void ShapeMismatchNamesOpAndBothShapes()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4, 5);
        var ex = Assert.Throws<ShapeMismatchException>(() => a.Add(b));
        Assert.Contains("add", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
        var mm = Assert.Throws<ShapeMismatchException>(() => a.Matmul(b));
        Assert.Contains("Matmul", mm.Message);
        Assert.Contains("[2, 3]", mm.Message);
        Assert.Contains("[4, 5]", mm.Message);
    }

    [Fact]
    public void MatmulGradCheckWithTransposedViews()
    {
        var g = new Generator(1);
        GradCheck.Check(x => x[0].Matmul(x[1].T), [g.Normal([3, 5]), g.Normal([4, 5])]);
        GradCheck.Check(x => x[0].Matmul(x[1]), [g.Normal([2, 3, 5]), g.Normal([5, 4])]);
        GradCheck.Check(x => x[0].Matmul(x[1]), [g.Normal([2, 1, 3, 5]), g.Normal([3, 5, 2])]);
    }

    [Fact]
    public void ElementwiseGradChecks()
    {
        var g = new Generator(2);
        GradCheck.Check(x => x[0] / (x[1].Abs() + 1f), [g.Normal([3, 1, 4]), g.Normal([5, 1])]);
        GradCheck.Check(x => x[0].Tanh().Sigmoid().Exp(), [g.Normal([7])]);
        GradCheck.Check(x => x[0].Gelu() + x[0].Gelu(GeluApproximation.Tanh) + x[0].Silu() + x[0].Softplus(), [g.Normal([17])]);
        GradCheck.Check(x => x[0].LogSumExp(1), [g.Normal([3, 5, 2])]);
    }
}
