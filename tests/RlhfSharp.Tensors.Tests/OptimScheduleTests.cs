using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Tests.OptimTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class OptimScheduleTests
{
    // Shared: 10 warm-up steps, 110 total (100 decay steps), min ratio 0.1.

    [Fact]
    public void Constant()
    {
        var s = new ConstantSchedule();
        Assert.Equal(1f, s.LrAt(0));
        Assert.Equal(1f, s.LrAt(12345));
    }

    [Fact]
    public void ConstantWithWarmup()
    {
        // step/10 below 10, then 1
        var s = new ConstantWithWarmupSchedule(10);
        Assert.Equal(0f, s.LrAt(0));
        Assert.Equal(0.3f, s.LrAt(3));
        Assert.Equal(1f, s.LrAt(10));
        Assert.Equal(1f, s.LrAt(1000));
        Assert.Equal(1f, new ConstantWithWarmupSchedule(0).LrAt(0));
    }

    [Fact]
    public void LinearWarmupThenLinearDecay()
    {
        var s = new LinearWithWarmupSchedule(10, 110, minRatio: 0.1f);
        Assert.Equal(0f, s.LrAt(0));
        Assert.Equal(0.5f, s.LrAt(5));
        Assert.Equal(1f, s.LrAt(10));
        // step 60: progress = 50/100 = 0.5 → 0.1 + 0.9·(1 − 0.5) = 0.55
        Assert.Equal(0.55f, s.LrAt(60), 6);
        // step 85: progress 0.75 → 0.1 + 0.9·0.25 = 0.325
        Assert.Equal(0.325f, s.LrAt(85), 6);
        Assert.Equal(0.1f, s.LrAt(110), 6);
        Assert.Equal(0.1f, s.LrAt(500), 6);
        // min ratio 0 is HF's schedule: (110 − 60)/(110 − 10) = 0.5
        Assert.Equal(0.5f, new LinearWithWarmupSchedule(10, 110).LrAt(60), 6);
    }

    [Fact]
    public void LinearWarmupThenCosineDecay()
    {
        var s = new CosineWithWarmupSchedule(10, 110, minRatio: 0.1f);
        Assert.Equal(0f, s.LrAt(0));
        Assert.Equal(0.7f, s.LrAt(7), 6);
        Assert.Equal(1f, s.LrAt(10));
        // step 35: progress 0.25 → 0.5·(1 + cos(π/4)) = 0.85355339 → 0.1 + 0.9·0.85355339 = 0.86819805
        Assert.Equal(0.86819805f, s.LrAt(35), 6);
        // step 60: progress 0.5 → 0.5·(1 + cos(π/2)) = 0.5 → 0.55
        Assert.Equal(0.55f, s.LrAt(60), 6);
        // step 85: progress 0.75 → 0.5·(1 − 0.70710678) = 0.14644661 → 0.1 + 0.9·0.14644661 = 0.23180195
        Assert.Equal(0.23180195f, s.LrAt(85), 6);
        Assert.Equal(0.1f, s.LrAt(110), 6);
        Assert.Equal(0.1f, s.LrAt(200), 6); // clamped: stays at the minimum after the last step
        // min ratio 0 is HF's get_cosine_schedule_with_warmup: step 35 → 0.85355339
        Assert.Equal(0.85355339f, new CosineWithWarmupSchedule(10, 110).LrAt(35), 6);
    }

    [Fact]
    public void ApplyScalesEachGroupsBaseLr()
    {
        var a = Param("a", 1f);
        var b = Param("b", 1f);
        var opt = new AdamW([new ParamGroup("a", [a], lr: 1e-3f), new ParamGroup("b", [b], lr: 2e-3f)]);
        var s = new CosineWithWarmupSchedule(10, 110, minRatio: 0.1f);
        s.Apply(opt, 5);
        Assert.Equal(5e-4f, opt.ParamGroups[0].Lr, 9);
        Assert.Equal(1e-3f, opt.ParamGroups[1].Lr, 9);
        s.Apply(opt, 60);
        Assert.Equal(0.55e-3f, opt.ParamGroups[0].Lr, 9);
        Assert.Equal(1.1e-3f, opt.ParamGroups[1].Lr, 9);
        Assert.Equal(2e-3f, opt.ParamGroups[1].InitialLr);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWithWarmupSchedule(10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmupSchedule(-1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmupSchedule(1, 5, minRatio: 1.5f));
    }
}
