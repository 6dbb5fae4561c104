using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// The loop every trainer runs, in one place: continue from the latest checkpoint (or log the
/// starting point), then per optimizer step train, log every <c>log_every</c> steps, evaluate every
/// <c>eval_every</c> steps and at the end, checkpoint every <c>save_every</c> steps and at the end.
/// A trainer supplies only its step, its evaluation and what its checkpoints carry.
/// </summary>
public sealed class StepLoop
{
    public required string Stage { get; init; }

    public required TrainLoopConfig Config { get; init; }

    public required TrainingSession Session { get; init; }

    /// <summary>The models whose weights checkpoints hold.</summary>
    public required IReadOnlyDictionary<string, Module> Models { get; init; }

    public required Optimizer Optimizer { get; init; }

    /// <summary>
    /// The run's check for NaN and infinity, which <see cref="Train"/> consults at each update (see
    /// <see cref="DataParallel.Update"/>). What it throws becomes a <see cref="TrainingDivergedException"/>
    /// naming the step and the last good checkpoint; its count of skipped updates is logged and checkpointed.
    /// </summary>
    public NonFiniteGuard? Guard { get; init; }

    /// <summary>Optimizer step <c>step</c> (1-based); returns the metrics logged when the step is due.</summary>
    public required Func<long, IReadOnlyDictionary<string, double>> Train { get; init; }

    /// <summary>An evaluation at a step: the metrics to log, or null for none (no held-out data).</summary>
    public Func<long, IReadOnlyDictionary<string, double>?>? Evaluate { get; init; }

    /// <summary>
    /// Asked after each step's evaluation: true ends the run there, after that step's checkpoint
    /// (an alarm such as reward hacking).
    /// </summary>
    public Func<bool>? StopRequested { get; init; }

    /// <summary>Runs after each evaluation is logged (sample texts).</summary>
    public Action<long>? AfterEvaluate { get; init; }

    /// <summary>At a fresh start, the metrics logged at step 0, or null for none.</summary>
    public Func<IReadOnlyDictionary<string, double>?>? Initial { get; init; }

    /// <summary>Writes what a checkpoint carries beyond weights and optimizer (data position, RNG…).</summary>
    public Action<TrainerState>? SaveState { get; init; }

    /// <summary>Reads back what <see cref="SaveState"/> wrote, on resume.</summary>
    public Action<TrainerState>? LoadState { get; init; }

    /// <summary>Written to the text log as <c>config/parameters</c> once the starting step is known.</summary>
    public string? ParametersText { get; init; }

    /// <summary>
    /// Runs the loop to max_steps; <paramref name="onStart"/> runs once progress has begun and before
    /// a checkpoint is read (the held-out reference). Returns the last step.
    /// </summary>
    public long Run(Action? onStart = null)
    {
        var cfg = Config;
        Session.Progress.Begin(Stage, cfg.MaxSteps, Session.ResumeFrom?.Step ?? 0);
        onStart?.Invoke();
        long step = 0;
        if (Session.ResumeFrom is not null)
        {
            var state = Session.LoadCheckpoint(Models, Optimizer);
            step = state.Step;
            LoadState?.Invoke(state);
            if (Guard is not null && state.Contains(SkippedKey))
            {
                Guard.Skipped = state.GetLong(SkippedKey);
                Guard.ConsecutiveSkips = (int)state.GetLong(ConsecutiveSkipsKey);
            }
        }
        else if (Initial?.Invoke() is { } initial)
        {
            Session.Log(0, initial);
        }
        if (ParametersText is not null)
            Session.Logger.LogText(step, "config/parameters", ParametersText);

        while (step < cfg.MaxSteps)
        {
            step++;
            var metrics = TrainGuarded(step);
            bool last = step == cfg.MaxSteps;
            if (step % cfg.LogEvery == 0 || last)
                Session.Log(step, metrics);
            if (Evaluate is not null && (last || (cfg.EvalEvery > 0 && step % cfg.EvalEvery == 0)) && EvaluateInScope(step) is { } evaluation)
            {
                Session.Log(step, evaluation);
                AfterEvaluate?.Invoke(step);
            }
            bool stop = StopRequested?.Invoke() == true;
            if (last || stop || (cfg.SaveEvery > 0 && step % cfg.SaveEvery == 0))
            {
                var state = new TrainerState(step);
                SaveState?.Invoke(state);
                if (Guard is not null)
                {
                    state.Set(SkippedKey, Guard.Skipped);
                    state.Set(ConsecutiveSkipsKey, (long)Guard.ConsecutiveSkips);
                }
                Session.SaveCheckpoint(state, Models, Optimizer);
            }
            if (stop)
                break;
        }
        Session.Progress.End();
        return step;
    }

    private IReadOnlyDictionary<string, double>? EvaluateInScope(long step)
    {
        using (TensorArena.Step())
            return Evaluate!(step);
    }

    private const string SkippedKey = "nonfinite_skips";
    private const string ConsecutiveSkipsKey = "nonfinite_skips_in_a_row";

    // A step whose update went non-finite ends the run here: the metrics logged so far are flushed,
    // no checkpoint or model of this step is written, and the latest checkpoint stays on disk.
    private IReadOnlyDictionary<string, double> TrainGuarded(long step)
    {
        IReadOnlyDictionary<string, double> metrics;
        try
        {
            // One storage scope per step: the step's activations and gradients go back to the
            // pool when it ends, so the next step reuses them instead of allocating.
            using (TensorArena.Step())
                metrics = Train(step);
        }
        catch (NonFiniteStepException e)
        {
            Session.Logger.Flush();
            throw new TrainingDivergedException(Stage, step, e.Message, Session.Checkpoints.LatestGood()?.Path);
        }
        if (Guard is not { SkipsUpdates: true })
            return metrics;
        return new Dictionary<string, double>(metrics) { [NonFiniteGuard.SkipsMetric] = Guard.Skipped };
    }
}
