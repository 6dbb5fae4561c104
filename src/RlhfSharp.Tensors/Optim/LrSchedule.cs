namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// A learning-rate schedule as a multiplier of each group's base rate (Hugging Face's LambdaLR
/// lr_lambda): <see cref="LrAt"/> gives the factor at a step, <see cref="Apply"/> sets every
/// group's <see cref="ParamGroup.Lr"/> to its <see cref="ParamGroup.InitialLr"/> times that factor.
/// Call Apply before each optimizer step with the number of steps already taken (0 first).
/// </summary>
public abstract class LrSchedule
{
    /// <summary>The multiplier of the base learning rate at <paramref name="step"/> (0-based).</summary>
    public abstract float LrAt(int step);

    /// <summary>Sets each group's lr to its base lr × <see cref="LrAt"/>(step).</summary>
    public void Apply(Optimizer optimizer, int step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (step < 0)
            throw new ArgumentOutOfRangeException(nameof(step), step, "LrSchedule: step must be non-negative");
        float factor = LrAt(step);
        foreach (var g in optimizer.ParamGroups)
            g.Lr = (g.InitialLr ?? g.Lr) * factor;
    }

    /// <summary>step / warmup during warm-up (0 at step 0), else 1.</summary>
    protected static double WarmupFactor(int step, int warmupSteps) =>
        step < warmupSteps ? step / (double)Math.Max(1, warmupSteps) : 1.0;

    /// <summary>Progress through the decay phase: 0 at the end of warm-up, 1 at <paramref name="totalSteps"/>, clamped to [0, 1].</summary>
    protected static double DecayProgress(int step, int warmupSteps, int totalSteps) =>
        Math.Clamp((step - warmupSteps) / (double)Math.Max(1, totalSteps - warmupSteps), 0.0, 1.0);

    protected static void CheckSteps(int warmupSteps, int? totalSteps = null, float minRatio = 0f)
    {
        if (warmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warm-up steps must be non-negative");
        if (totalSteps is { } t && t < warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), t, $"total steps must be at least the {warmupSteps} warm-up steps");
        if (!(minRatio is >= 0f and <= 1f))
            throw new ArgumentOutOfRangeException(nameof(minRatio), minRatio, "the minimum ratio must lie in [0, 1]");
    }
}
