namespace RlhfSharp.Tensors.Optim;

/// <summary>Linear warm-up from 0 over <see cref="WarmupSteps"/>, then constant (HF get_constant_schedule_with_warmup).</summary>
public sealed class ConstantWithWarmupSchedule : LrSchedule
{
    public ConstantWithWarmupSchedule(int warmupSteps)
    {
        CheckSteps(warmupSteps);
        WarmupSteps = warmupSteps;
    }

    public int WarmupSteps { get; }

    public override float LrAt(int step) => (float)WarmupFactor(step, WarmupSteps);
}
