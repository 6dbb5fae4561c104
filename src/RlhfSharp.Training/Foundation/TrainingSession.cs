using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// The plumbing every trainer shares: the run folder (resolved config, metrics.jsonl,
/// TensorBoard events, checkpoints, summary.json), resuming from the latest checkpoint, and the
/// wall-clock time summed over every process that worked on the run.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    public const string ElapsedKey = "time/elapsed_s";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _previousSeconds;

    private TrainingSession(RunFolder folder, CheckpointStore store, MetricLogger logger, IProgressReporter progress, (long Step, string Path)? resumeFrom, double previousSeconds)
    {
        Folder = folder;
        Checkpoints = store;
        Logger = logger;
        Progress = progress;
        ResumeFrom = resumeFrom;
        _previousSeconds = previousSeconds;
    }

    public RunFolder Folder { get; }

    public CheckpointStore Checkpoints { get; }

    public MetricLogger Logger { get; }

    public IProgressReporter Progress { get; }

    /// <summary>The checkpoint this run continues from, or null for a fresh start.</summary>
    public (long Step, string Path)? ResumeFrom { get; }

    /// <summary>Seconds of work on this run, including earlier processes that were interrupted.</summary>
    public double ElapsedSeconds => _previousSeconds + _clock.Elapsed.TotalSeconds;

    /// <summary>
    /// Opens <paramref name="runDirectory"/>. With <paramref name="resume"/> the latest complete
    /// checkpoint (if any) is continued and metrics logged after it are dropped; without it the
    /// folder must not hold checkpoints of an earlier run.
    /// </summary>
    public static TrainingSession Open(string runDirectory, string resolvedConfigYaml, bool resume, IProgressReporter? progress = null, int keepCheckpoints = 2)
    {
        var full = Path.GetFullPath(runDirectory);
        var folder = RunFolder.Create(Path.GetDirectoryName(full)!, Path.GetFileName(full), allowExisting: true);
        var store = new CheckpointStore(folder.Path, keepCheckpoints);
        var latest = store.Latest();
        if (!resume && (latest is not null || File.Exists(folder.SummaryPath)))
            throw new TrainingSetupException($"{folder.Path} already holds a run (checkpoints or summary.json). Resume it with --resume {runDirectory}, or pick another --out folder.");
        double previous = 0;
        if (resume && latest is { } l)
        {
            var state = TrainerState.Parse(File.ReadAllText(Path.Combine(l.Path, CheckpointStore.StateFile)), l.Path);
            previous = state.Contains(ElapsedKey) ? state.GetDouble(ElapsedKey) : 0;
        }
        if (!resume || !File.Exists(folder.ConfigPath))
            folder.WriteConfig(resolvedConfigYaml);
        // Resuming keeps the metrics logged up to the checkpoint; with no checkpoint yet the run starts over.
        bool continuing = resume && latest is not null;
        long? keepUpTo = continuing ? latest!.Value.Step : null;
        var logger = new MetricLogger(
            new JsonlMetricSink(folder.Path, append: continuing, resumeFromStep: keepUpTo),
            new TensorBoardSink(Path.Combine(folder.Path, "tensorboard"), resumeFromStep: keepUpTo));
        return new TrainingSession(folder, store, logger, progress ?? NullProgress.Instance, continuing ? latest : null, previous);
    }

    public void Log(long step, IReadOnlyDictionary<string, double> metrics)
    {
        Logger.Log(step, metrics);
        Progress.Update(step, metrics);
    }

    /// <summary>Writes a checkpoint; the elapsed time is stored so a resumed run reports the total.</summary>
    public void SaveCheckpoint(TrainerState state, IReadOnlyDictionary<string, Module> models, Optimizer? optimizer)
    {
        state.Set(ElapsedKey, ElapsedSeconds);
        Logger.Flush();
        Checkpoints.Save(state, models, optimizer);
    }

    public TrainerState LoadCheckpoint(IReadOnlyDictionary<string, Module> models, Optimizer? optimizer) =>
        Checkpoints.Load(ResumeFrom!.Value.Path, models, optimizer);

    public void WriteSummary(JsonObject summary)
    {
        summary["time/total_s"] = Math.Round(ElapsedSeconds, 3);
        Folder.WriteSummary(summary);
    }

    public void Dispose() => Logger.Dispose();
}
