using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// Watches every optimizer update of a run for NaN and infinity (<c>on_nonfinite</c>). Before an
/// update, the loss and the gradient norms are checked: with <c>stop</c> a non-finite one ends the
/// run; with <c>skip</c> the update is dropped (weights and optimizer state untouched) and counted,
/// and the run ends once more than <c>max_nonfinite_skips</c> updates in a row were dropped. After
/// an update, the trainable parameters are checked: a parameter that became non-finite ends the
/// run whatever the setting, since the update cannot be taken back. On several ranks every rank
/// reaches the same decision: the losses' verdicts are summed over the ranks, the gradient norms are
/// taken after the all-reduce and the parameters after ZeRO-1's gather, so they agree already.
/// </summary>
public sealed class NonFiniteGuard
{
    /// <summary>The metric counting the updates dropped so far (with <c>on_nonfinite: skip</c>).</summary>
    public const string SkipsMetric = "train/nonfinite_skips";

    private readonly Communicator _comm;

    public NonFiniteGuard(TrainLoopConfig cfg, Communicator comm)
    {
        SkipsUpdates = cfg.OnNonFinite == "skip";
        MaxConsecutiveSkips = cfg.MaxNonFiniteSkips;
        _comm = comm;
    }

    /// <summary>True with <c>on_nonfinite: skip</c>.</summary>
    public bool SkipsUpdates { get; }

    public int MaxConsecutiveSkips { get; }

    /// <summary>Updates dropped since the run began (checkpointed).</summary>
    public long Skipped { get; set; }

    /// <summary>Updates dropped since the last one applied (checkpointed).</summary>
    public int ConsecutiveSkips { get; set; }

    /// <summary>
    /// The global gradient norm of <paramref name="parameters"/> before clipping, clipped to
    /// <paramref name="maxGradNorm"/> when that is positive and only measured otherwise.
    /// </summary>
    public static float GradNorm(IEnumerable<Tensor> parameters, float maxGradNorm) =>
        GradClip.ClipGradNorm(parameters, maxGradNorm > 0 ? maxGradNorm : float.PositiveInfinity);

    /// <summary>
    /// Whether the update about to be applied may go ahead: true when <paramref name="localLoss"/>
    /// (this rank's part of the loss) and every gradient norm are finite; false when one is not and
    /// the update is to be skipped. Throws <see cref="NonFiniteStepException"/> when the run must stop.
    /// Every rank must call it at the same point.
    /// </summary>
    public bool Admit(double localLoss, params ReadOnlySpan<(string Name, double Value)> gradNorms)
    {
        bool lossBad = !double.IsFinite(localLoss);
        if (_comm.Size > 1)
            lossBad = _comm.Sum(lossBad ? 1 : 0, "non-finite check") > 0;
        string? what = lossBad ? (_comm.Size > 1 ? "the loss is not finite (on at least one rank)" : $"the loss is {Describe(localLoss)}") : null;
        foreach (var (name, value) in gradNorms)
        {
            if (what is null && !double.IsFinite(value))
                what = $"the gradient norm ({name}) is {Describe(value)}";
        }
        if (what is null)
            return true;
        if (!SkipsUpdates)
            throw new NonFiniteStepException($"{what} (on_nonfinite: stop)");
        Skipped++;
        ConsecutiveSkips++;
        if (ConsecutiveSkips > MaxConsecutiveSkips)
            throw new NonFiniteStepException($"{what}, and the {MaxConsecutiveSkips} update(s) before it were skipped for the same reason (on_nonfinite: skip gives up after max_nonfinite_skips: {MaxConsecutiveSkips} in a row)");
        return false;
    }

    /// <summary>
    /// After an update was applied: throws <see cref="NonFiniteStepException"/> naming the first of
    /// <paramref name="parameters"/> that holds a NaN or an infinity; otherwise ends a run of skips.
    /// </summary>
    public void CheckUpdated(IEnumerable<Tensor> parameters)
    {
        int index = 0;
        foreach (var p in parameters)
        {
            long at = p.FirstNonFinite();
            if (at >= 0)
                throw new NonFiniteStepException($"parameter '{p.Name ?? $"#{index}"}' became non-finite (element {at}) in the update, which cannot be undone whatever on_nonfinite says");
            index++;
        }
        ConsecutiveSkips = 0;
    }

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
}

/// <summary>
/// Thrown by <see cref="NonFiniteGuard"/> inside a step; <see cref="StepLoop"/> turns it into a
/// <see cref="TrainingDivergedException"/> that names the step and the last good checkpoint.
/// </summary>
public sealed class NonFiniteStepException(string what) : Exception(what)
{
}

/// <summary>
/// A run stopped because its loss, gradients or weights went NaN or infinite. The message names
/// the stage, the step, what went non-finite and the last good checkpoint (kept on disk); the
/// command line prints it alone and exits with its own code.
/// </summary>
public sealed class TrainingDivergedException : Exception, IUserError
{
    public TrainingDivergedException(string stage, long step, string what, string? checkpoint)
        : base($"{stage} diverged at step {step}: {what}. " +
            (checkpoint is null ? "Last good checkpoint: none saved yet. " : $"Last good checkpoint (kept): {checkpoint}. ") +
            "No model was written for this step. Lower learning_rate, set max_grad_norm, or set on_nonfinite: skip to drop such updates.")
    {
        Stage = stage;
        Step = step;
        What = what;
        Checkpoint = checkpoint;
    }

    public string Stage { get; }

    public long Step { get; }

    /// <summary>What went non-finite.</summary>
    public string What { get; }

    /// <summary>The latest complete checkpoint of the run, or null when none was saved yet.</summary>
    public string? Checkpoint { get; }
}
