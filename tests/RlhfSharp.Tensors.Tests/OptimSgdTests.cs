using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Tests.OptimTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class OptimSgdTests
{
    // Shared set-up: p = (1, −2), lr = 0.1, gradients g1 = (0.5, −1) then g2 = (1, 2).

    [Fact]
    public void PlainStep()
    {
        // p ← p − lr·g = (1 − 0.05, −2 + 0.1) = (0.95, −1.9)
        var p = Param("w", 1f, -2f);
        var opt = new Sgd([p], lr: 0.1f);
        SetGrad(p, 0.5f, -1f);
        opt.Step();
        AssertClose([0.95f, -1.9f], p.ToArray());
    }

    [Fact]
    public void MomentumTwoSteps()
    {
        // step 1: buf = g1 = (0.5, −1);                       p = (1, −2) − 0.1·(0.5, −1) = (0.95, −1.9)
        // step 2: buf = 0.9·(0.5, −1) + (1, 2) = (1.45, 1.1); p = (0.95, −1.9) − 0.1·(1.45, 1.1) = (0.805, −2.01)
        var p = Param("w", 1f, -2f);
        var opt = new Sgd([p], lr: 0.1f, momentum: 0.9f);
        SetGrad(p, 0.5f, -1f);
        opt.Step();
        AssertClose([0.95f, -1.9f], p.ToArray());
        SetGrad(p, 1f, 2f);
        opt.Step();
        AssertClose([0.805f, -2.01f], p.ToArray());
    }

    [Fact]
    public void NesterovTwoSteps()
    {
        // step 1: buf = (0.5, −1); g' = g + 0.9·buf = (0.95, −1.9);     p = (1, −2) − 0.1·g' = (0.905, −1.81)
        // step 2: buf = (1.45, 1.1); g' = (1, 2) + 0.9·buf = (2.305, 2.99); p = (0.905 − 0.2305, −1.81 − 0.299) = (0.6745, −2.109)
        var p = Param("w", 1f, -2f);
        var opt = new Sgd([p], lr: 0.1f, momentum: 0.9f, nesterov: true);
        SetGrad(p, 0.5f, -1f);
        opt.Step();
        AssertClose([0.905f, -1.81f], p.ToArray());
        SetGrad(p, 1f, 2f);
        opt.Step();
        AssertClose([0.6745f, -2.109f], p.ToArray());
    }

    [Fact]
    public void WeightDecayIsAddedToTheGradient()
    {
        // g' = g + 0.1·p = (0.5 + 0.1, −1 − 0.2) = (0.6, −1.2); p = (1 − 0.06, −2 + 0.12) = (0.94, −1.88)
        var p = Param("w", 1f, -2f);
        var opt = new Sgd([p], lr: 0.1f, weightDecay: 0.1f);
        SetGrad(p, 0.5f, -1f);
        opt.Step();
        AssertClose([0.94f, -1.88f], p.ToArray());
    }

    [Fact]
    public void ParametersWithoutGradientAreSkippedAndZeroGradClears()
    {
        var a = Param("a", 1f, 2f);
        var b = Param("b", 3f);
        var opt = new Sgd([a, b], lr: 0.5f, momentum: 0.9f);
        SetGrad(a, 1f, 1f);
        opt.Step();
        AssertClose([0.5f, 1.5f], a.ToArray());
        Assert.Equal([3f], b.ToArray());
        Assert.Equal(0, opt.StateDict().Params[1].Step);
        opt.ZeroGrad(setToNull: false);
        Assert.Equal([0f, 0f], a.Grad!.ToArray());
        Assert.Null(b.Grad);
        opt.ZeroGrad();
        Assert.Null(a.Grad);
    }

    [Fact]
    public void StepUpdatesStorageInPlaceWithoutRecording()
    {
        // d/dp Σp² = 2p = (2, −4); p ← p − 0.1·2p = 0.8·p = (0.8, −1.6)
        var p = Param("w", 1f, -2f);
        var alias = p.Detach();
        var opt = new Sgd([p], lr: 0.1f);
        (p * p).Sum().Backward();
        opt.Step();
        AssertClose([0.8f, -1.6f], alias.ToArray());
        Assert.True(p.IsLeaf);
        Assert.True(p.RequiresGrad);
    }

    [Fact]
    public void RejectsBadConfiguration()
    {
        var p = Param("w", 1f);
        Assert.Throws<ArgumentException>(() => new Sgd([p], lr: 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd([p, p], lr: 0.1f));
        var view = TinyModels.Param(Tensor.Zeros(2, 3), "m").Detach().T;
        var ex = Assert.Throws<ArgumentException>(() => new Sgd([view], lr: 0.1f));
        Assert.Contains("contiguous float32 leaf", ex.Message);
    }
}
