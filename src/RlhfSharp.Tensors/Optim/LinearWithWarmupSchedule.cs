namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Linear warm-up from 0, then linear decay to <see cref="MinRatio"/> at <see cref="TotalSteps"/>,
/// held there afterwards (HF get_linear_schedule_with_warmup, whose decay ends at 0, rescaled
/// into [minRatio, 1]): factor = minRatio + (1 − minRatio)·(1 − progress).
/// </summary>
public sealed class LinearWithWarmupSchedule : LrSchedule
{
    public LinearWithWarmupSchedule(int warmupSteps, int totalSteps, float minRatio = 0f)
    {
        CheckSteps(warmupSteps, totalSteps, minRatio);
        (WarmupSteps, TotalSteps, MinRatio) = (warmupSteps, totalSteps, minRatio);
    }

    public int WarmupSteps { get; }

    public int TotalSteps { get; }

    public float MinRatio { get; }

    public override float LrAt(int step)
    {
        if (step < WarmupSteps)
            return (float)WarmupFactor(step, WarmupSteps);
        double decay = 1.0 - DecayProgress(step, WarmupSteps, TotalSteps);
        return (float)(MinRatio + ((1.0 - MinRatio) * decay));
    }
}
