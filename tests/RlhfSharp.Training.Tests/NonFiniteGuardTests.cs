using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// The decisions of the NaN/infinity guard every trainer's update goes through: stop at once, or
/// skip the update (leaving weights and optimizer state as they were) up to max_nonfinite_skips
/// in a row.
/// </summary>
public sealed class NonFiniteGuardTests
{
    private static NonFiniteGuard Guard(string mode, int maxSkips = 3) =>
        new(new SftConfig { OnNonFinite = mode, MaxNonFiniteSkips = maxSkips }, SingleProcessCommunicator.Instance);

    private static Tensor Trainable(float[] values, string name)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }

    [Fact]
    public void StopEndsTheRunAtTheFirstNonFiniteLossOrGradientNorm()
    {
        var guard = Guard("stop");
        Assert.True(guard.Admit(0.7, ("train/grad_norm", 1.5)));
        var loss = Assert.Throws<NonFiniteStepException>(() => guard.Admit(double.NaN, ("train/grad_norm", 1.5)));
        Assert.Contains("loss is NaN", loss.Message);
        var norm = Assert.Throws<NonFiniteStepException>(() => guard.Admit(0.7, ("train/grad_norm_policy", 1.0), ("train/grad_norm_critic", double.PositiveInfinity)));
        Assert.Contains("train/grad_norm_critic", norm.Message);
        Assert.Contains("+Infinity", norm.Message);
        Assert.Equal(0, guard.Skipped);
    }

    [Fact]
    public void SkipDropsBadUpdatesAndGivesUpAfterMaxSkipsInARow()
    {
        var guard = Guard("skip", maxSkips: 2);
        var p = Trainable([1f, 2f], "w");
        // Occasional bad updates: each is skipped, and an applied update ends the run of skips.
        Assert.False(guard.Admit(double.NaN));
        Assert.False(guard.Admit(0.5, ("train/grad_norm", double.NaN)));
        Assert.True(guard.Admit(0.5, ("train/grad_norm", 1)));
        guard.CheckUpdated([p]);
        Assert.False(guard.Admit(double.PositiveInfinity));
        Assert.True(guard.Admit(0.5));
        guard.CheckUpdated([p]);
        Assert.Equal(3, guard.Skipped);
        Assert.Equal(0, guard.ConsecutiveSkips);

        // An update that stays bad: two skips in a row are allowed, the third gives up.
        Assert.False(guard.Admit(double.NaN));
        Assert.False(guard.Admit(double.NaN));
        var e = Assert.Throws<NonFiniteStepException>(() => guard.Admit(double.NaN));
        Assert.Contains("max_nonfinite_skips: 2", e.Message);
    }

    [Fact]
    public void AParameterThatWentNonFiniteInAnUpdateStopsTheRunEvenWhenSkipping()
    {
        var guard = Guard("skip");
        var fine = Trainable([1f, 2f], "model.norm.weight");
        var broken = Trainable([1f, 2f, 3f, float.NaN, 5f], "model.layers.0.mlp.up_proj.weight");
        var e = Assert.Throws<NonFiniteStepException>(() => guard.CheckUpdated([fine, broken]));
        Assert.Contains("model.layers.0.mlp.up_proj.weight", e.Message);
        Assert.Contains("element 3", e.Message);
    }

    [Fact]
    public void ASkippedUpdateLeavesWeightsAndOptimizerStateUntouched()
    {
        var cfg = new SftConfig { OnNonFinite = "skip", MaxGradNorm = 1 };
        using var dp = DataParallel.Start(cfg, "seed: 1");
        var w = Trainable([0.5f, -0.25f, 2f], "w");
        var optimizer = new AdamW([w], lr: 0.1f);

        // A good update first, so the optimizer has moments to keep.
        w.Grad = Tensor.FromArray([0.1f, 0.2f, -0.3f], 3);
        dp.Update(optimizer, [w], localLoss: 1.25);
        var weights = w.ToArray();
        using var state = new MemoryStream();
        optimizer.Save(state);

        // The loss of the next step is NaN (its gradients look fine): nothing moves.
        w.Grad = Tensor.FromArray([0.1f, 0.2f, -0.3f], 3);
        dp.Update(optimizer, [w], localLoss: double.NaN);
        Assert.Equal(weights, w.ToArray());
        using var after = new MemoryStream();
        optimizer.Save(after);
        Assert.Equal(state.ToArray(), after.ToArray());
        Assert.Equal(1, dp.Guard.Skipped);

        // An infinite gradient: skipped the same way, and its norm is reported.
        w.Grad = Tensor.FromArray([0.1f, float.PositiveInfinity, -0.3f], 3);
        Assert.Equal(float.PositiveInfinity, dp.Update(optimizer, [w], localLoss: 1.0));
        Assert.Equal(weights, w.ToArray());
        Assert.Equal(1, optimizer.StepCount);
        Assert.Equal(2, dp.Guard.Skipped);
    }

    [Fact]
    public void WithClippingOffTheGradientNormIsStillMeasuredAndChecked()
    {
        var cfg = new SftConfig { MaxGradNorm = 0 };
        using var dp = DataParallel.Start(cfg, "seed: 1");
        var w = Trainable([1f, 1f], "w");
        var optimizer = new AdamW([w], lr: 0.1f);
        w.Grad = Tensor.FromArray([3f, 4f], 2);
        Assert.Equal(5f, dp.Update(optimizer, [w], localLoss: 1.0)); // not clipped, and not NaN
        w.Grad = Tensor.FromArray([float.NaN, 4f], 2);
        var before = w.ToArray();
        var e = Assert.Throws<NonFiniteStepException>(() => dp.Update(optimizer, [w], localLoss: 1.0));
        Assert.Contains("gradient norm", e.Message);
        Assert.Equal(before, w.ToArray());
    }
}
