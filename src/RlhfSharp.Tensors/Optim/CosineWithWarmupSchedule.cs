namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Linear warm-up from 0, then half a cosine down to <see cref="MinRatio"/> at
/// <see cref="TotalSteps"/> (SGDR, Loshchilov &amp; Hutter 2017, eq. 5, as HF
/// get_cosine_schedule_with_warmup): factor = minRatio + (1 − minRatio)·0.5·(1 + cos(π·progress)).
/// Unlike HF, progress is clamped at 1, so the rate stays at the minimum after the last step
/// instead of rising again.
/// </summary>
public sealed class CosineWithWarmupSchedule : LrSchedule
{
    public CosineWithWarmupSchedule(int warmupSteps, int totalSteps, float minRatio = 0f)
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
        double cosine = 0.5 * (1.0 + Math.Cos(Math.PI * DecayProgress(step, WarmupSteps, TotalSteps)));
        return (float)(MinRatio + ((1.0 - MinRatio) * cosine));
    }
}
