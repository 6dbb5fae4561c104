using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// The plumbing every trainer shares: the run folder (resolved config, metrics.jsonl,
/// TensorBoard events, checkpoints, summary.json), resuming from the latest checkpoint, and the
/// wall-clock time summed over every process that worked on the run. In a data-parallel run
/// only rank 0 writes (console, metrics, TensorBoard, checkpoints, summary); every rank reads a
/// checkpoint to resume, so the run folder must be on a filesystem the ranks share.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    public const string ElapsedKey = "time/elapsed_s";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _previousSeconds;

    private TrainingSession(Communicator comm, RunFolder folder, CheckpointStore store, MetricLogger logger, IProgressReporter progress, (long Step, string Path)? resumeFrom, double previousSeconds)
    {
        Comm = comm;
        Folder = folder;
        Checkpoints = store;
        Logger = logger;
        Progress = progress;
        ResumeFrom = resumeFrom;
        _previousSeconds = previousSeconds;
    }

    public RunFolder Folder { get; }

    /// <summary>The ranks of the run (one process: a single rank).</summary>
    public Communicator Comm { get; }

    /// <summary>True on the rank that writes files (rank 0).</summary>
    public bool IsMain => Comm.IsMain;

    public CheckpointStore Checkpoints { get; }

    public MetricLogger Logger { get; }

    public IProgressReporter Progress { get; }

    /// <summary>The checkpoint this run continues from, or null for a fresh start.</summary>
    public (long Step, string Path)? ResumeFrom { get; }

    /// <summary>Seconds of work on this run, including earlier processes that were interrupted.</summary>
    public double ElapsedSeconds => _previousSeconds + _clock.Elapsed.TotalSeconds;

    /// <summary>
    /// Opens <paramref name="runDirectory"/>. With <paramref name="resume"/> the newest whole
    /// checkpoint (if any; damaged newer ones are skipped with a message) is continued and metrics
    /// logged after it are dropped; <paramref name="resumeFromCheckpoint"/> names the checkpoint
    /// instead (and implies resume). Without either the folder must not hold checkpoints of an
    /// earlier run.
    /// </summary>
    public static TrainingSession Open(string runDirectory, string resolvedConfigYaml, bool resume, IProgressReporter? progress = null, int keepCheckpoints = 2, string? resumeFromCheckpoint = null)
    {
        var comm = World.Current;
        var full = Path.GetFullPath(runDirectory);
        var folder = comm.IsMain ? RunFolder.Create(Path.GetDirectoryName(full)!, Path.GetFileName(full), allowExisting: true) : RunFolder.At(full);
        var store = new CheckpointStore(folder.Path, keepCheckpoints);
        resume |= resumeFromCheckpoint is not null;
        var report = comm.IsMain ? progress ?? NullProgress.Instance : NullProgress.Instance;
        var latest = resume ? store.ResumePoint(resumeFromCheckpoint, report.Message) : null;
        if (!resume && (store.List().Count > 0 || File.Exists(folder.SummaryPath)))
            throw new TrainingSetupException($"{folder.Path} already holds a run (checkpoints or summary.json). Resume it with --resume {runDirectory}, or pick another --out folder.");
        if (comm.Size > 1)
        {
            // Every rank must continue from the same checkpoint.
            Span<long> main = [latest?.Step ?? -1];
            long mine = main[0];
            comm.Broadcast(main, 0, "checkpoint check");
            if (comm.Sum(main[0] == mine ? 0 : 1, "checkpoint check") > 0)
            {
                throw new TrainingSetupException(
                    $"rank {comm.Rank} finds {(mine < 0 ? "no checkpoint" : $"checkpoint {mine}")} in {folder.Path} and rank 0 {(main[0] < 0 ? "none" : $"checkpoint {main[0]}")}, or another rank disagrees; " +
                    "a data-parallel run keeps its run folder on a filesystem every rank shares");
            }
        }
        double previous = 0;
        if (resume && latest is { } l)
        {
            var state = TrainerState.Parse(File.ReadAllText(Path.Combine(l.Path, CheckpointStore.StateFile)), l.Path);
            previous = state.Contains(ElapsedKey) ? state.GetDouble(ElapsedKey) : 0;
        }
        if (comm.IsMain && (!resume || !File.Exists(folder.ConfigPath)))
            folder.WriteConfig(resolvedConfigYaml);
        // Resuming keeps the metrics logged up to the checkpoint; with no checkpoint yet the run starts over.
        bool continuing = resume && latest is not null;
        long? keepUpTo = continuing ? latest!.Value.Step : null;
        var logger = comm.IsMain
            ? new MetricLogger(
                new JsonlMetricSink(folder.Path, append: continuing, resumeFromStep: keepUpTo),
                new TensorBoardSink(Path.Combine(folder.Path, "tensorboard"), resumeFromStep: keepUpTo))
            : new MetricLogger();
        return new TrainingSession(comm, folder, store, logger, report, continuing ? latest : null, previous);
    }

    public void Log(long step, IReadOnlyDictionary<string, double> metrics)
    {
        Logger.Log(step, metrics);
        Progress.Update(step, metrics);
    }

    /// <summary>
    /// Writes a checkpoint (rank 0); the elapsed time is stored so a resumed run reports the
    /// total. With the optimizer's state split across the ranks (ZeRO-1), every rank sends its
    /// shard to rank 0, which writes one file per shard; every rank must call this.
    /// </summary>
    public void SaveCheckpoint(TrainerState state, IReadOnlyDictionary<string, Module> models, Optimizer? optimizer)
    {
        state.Set(ElapsedKey, ElapsedSeconds);
        IReadOnlyList<byte[]>? shards = null;
        if (optimizer is { IsSharded: true })
        {
            using var mine = new MemoryStream();
            optimizer.Save(mine);
            var all = Comm.GatherV<byte>(mine.ToArray(), out var counts, 0, "optimizer shards");
            var list = new List<byte[]>();
            int at = 0;
            foreach (var c in counts)
            {
                list.Add(IsMain ? all.AsSpan(at, c).ToArray() : []);
                at += c;
            }
            shards = list;
        }
        if (!IsMain)
            return;
        Logger.Flush();
        Checkpoints.Save(state, models, optimizer, shards);
    }

    public TrainerState LoadCheckpoint(IReadOnlyDictionary<string, Module> models, Optimizer? optimizer) =>
        Checkpoints.Load(ResumeFrom!.Value.Path, models, optimizer);

    /// <summary>Writes summary.json (rank 0).</summary>
    public void WriteSummary(JsonObject summary)
    {
        summary["time/total_s"] = Math.Round(ElapsedSeconds, 3);
        if (IsMain)
            Folder.WriteSummary(summary);
    }

    public void Dispose() => Logger.Dispose();
}
