using System.Globalization;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Checkpointing;

/// <summary>
/// Checkpoints of a run folder: <c>checkpoint-&lt;step&gt;/</c> holding each model as an HF folder
/// (fp32, so a resume is exact), <c>optimizer.bin</c>, <c>trainer_state.json</c> and, written
/// last, <c>manifest.json</c> with every file's size and SHA-256. A checkpoint is assembled in a
/// temporary folder and renamed into place only when complete, so a run killed at any moment
/// leaves either the whole checkpoint or none of it; the manifest finds one damaged afterwards,
/// and a resume falls back to the newest checkpoint that still matches its manifest.
/// </summary>
public sealed class CheckpointStore(string runDirectory, int keepLast = 2)
{
    public const string Prefix = RunFolder.CheckpointPrefix;
    public const string StateFile = "trainer_state.json";
    public const string OptimizerFile = "optimizer.bin";
    public const string ManifestFile = CheckpointManifest.FileName;

    /// <summary>LoRA adapter weights of a model with adapters (the model folder itself holds only base weights).</summary>
    public const string AdapterFile = "adapters.safetensors";

    public string RunDirectory { get; } = runDirectory;

    /// <summary>The optimizer state of one rank of a run with its moments split across the ranks (ZeRO-1).</summary>
    public static string ShardFile(int rank, int ranks) => $"optimizer.shard-{rank}-of-{ranks}.bin";

    /// <summary>
    /// Writes a checkpoint. With <paramref name="optimizerShards"/> (ZeRO-1: each rank's
    /// serialized state) the optimizer goes into one file per shard instead of optimizer.bin.
    /// </summary>
    public string Save(TrainerState state, IReadOnlyDictionary<string, Module> models, Optimizer? optimizer, IReadOnlyList<byte[]>? optimizerShards = null)
    {
        string final = Path.Combine(RunDirectory, Prefix + state.Step.ToString(CultureInfo.InvariantCulture));
        string tmp = Path.Combine(RunDirectory, $".{Prefix}{state.Step}.{Environment.ProcessId}.tmp");
        try
        {
            Directory.CreateDirectory(RunDirectory);
            if (Directory.Exists(tmp))
                Directory.Delete(tmp, recursive: true);
            Directory.CreateDirectory(tmp);
            WriteFiles(tmp, state, models, optimizer, optimizerShards);
            if (Directory.Exists(final))
                Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
        }
        catch (Exception e)
        {
            DeleteQuietly(tmp);
            // The checkpoints written before stay as they were; a resume continues from the newest.
            if (DiskFullException.IsDiskFull(e))
                throw new DiskFullException(final, e);
            throw;
        }
        Prune(final);
        return final;
    }

    private static void WriteFiles(string tmp, TrainerState state, IReadOnlyDictionary<string, Module> models, Optimizer? optimizer, IReadOnlyList<byte[]>? optimizerShards)
    {
        foreach (var (name, model) in models)
        {
            PretrainedIO.Save(model, Path.Combine(tmp, name));
            var adapters = model.NamedParameters().Where(p => IsAdapter(p.Name)).Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Param.Value.Detach())).ToList();
            if (adapters.Count > 0)
                SafeTensorsWriter.Save(Path.Combine(tmp, name, AdapterFile), adapters);
        }
        if (optimizerShards is not null)
        {
            for (int r = 0; r < optimizerShards.Count; r++)
            {
                var bytes = optimizerShards[r];
                AtomicFile.Write(Path.Combine(tmp, ShardFile(r, optimizerShards.Count)), s => s.Write(bytes));
            }
        }
        else if (optimizer is not null)
        {
            AtomicFile.Write(Path.Combine(tmp, OptimizerFile), optimizer.Save);
        }
        AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), state.ToJson());
        // The manifest goes last: its presence marks the checkpoint complete, its hashes find later damage.
        CheckpointManifest.Compute(tmp).Write(tmp);
    }

    /// <summary>Checkpoint folders (complete or not), oldest first.</summary>
    public IReadOnlyList<(long Step, string Path)> List()
    {
        if (!Directory.Exists(RunDirectory))
            return [];
        return RunFolder.Open(RunDirectory).ListCheckpoints().Select(c => (c.Step, c.Path)).ToList();
    }

    /// <summary>The newest checkpoint with a manifest (complete when written; not verified here: see <see cref="LatestGood"/>).</summary>
    public (long Step, string Path)? Latest() =>
        List().LastOrDefault(c => File.Exists(Path.Combine(c.Path, ManifestFile))) is { Path: not null } c ? c : null;

    /// <summary>
    /// The newest checkpoint whose files all match its manifest, or null when none does. Each newer
    /// checkpoint passed over is reported to <paramref name="skipped"/> with the reason.
    /// </summary>
    public (long Step, string Path)? LatestGood(Action<string>? skipped = null)
    {
        foreach (var c in List().Reverse())
        {
            if (Problem(c.Path) is not { } problem)
                return c;
            skipped?.Invoke($"{c.Path}: skipped, {problem}");
        }
        return null;
    }

    /// <summary>
    /// Why <paramref name="checkpoint"/> cannot be resumed (no manifest, a file missing, or a file
    /// that differs from its manifest), or null when it is whole.
    /// </summary>
    public static string? Problem(string checkpoint)
    {
        if (!Directory.Exists(checkpoint))
            return "the folder does not exist";
        if (!File.Exists(Path.Combine(checkpoint, ManifestFile)))
        {
            return File.Exists(Path.Combine(checkpoint, StateFile))
                ? $"it has no {ManifestFile} (written by a version before checkpoints carried checksums, so it cannot be verified)"
                : $"it has no {ManifestFile} (its writing never finished)";
        }
        try
        {
            var manifest = CheckpointManifest.Read(checkpoint);
            if (!manifest.Files.Any(f => f.Path == StateFile))
                return $"its {ManifestFile} lists no {StateFile}";
            return manifest.Check(checkpoint);
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Where a resumed run continues from. With <paramref name="checkpoint"/> (a checkpoint-N folder
    /// of this run folder) exactly that one, and a damaged one is an error; without, the newest
    /// whole checkpoint, each newer damaged one reported to <paramref name="skipped"/>. Null when the
    /// folder holds no checkpoint at all (the run starts over); an error when it holds some but
    /// none is whole.
    /// </summary>
    public (long Step, string Path)? ResumePoint(string? checkpoint = null, Action<string>? skipped = null)
    {
        if (checkpoint is not null)
        {
            var full = Path.GetFullPath(checkpoint).TrimEnd(Path.DirectorySeparatorChar);
            bool inRun = string.Equals(Path.GetDirectoryName(full), Path.GetFullPath(RunDirectory).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
            if (!inRun || !RunFolder.TryParseCheckpointStep(Path.GetFileName(full), out long step))
                throw new CheckpointException($"resume_from_checkpoint: '{checkpoint}' is not a {Prefix}<step> folder of the run folder {RunDirectory}; name one of {Names(List())}");
            if (Problem(full) is { } problem)
                throw new CheckpointException($"resume_from_checkpoint: {full} cannot be resumed: {problem}. Name another checkpoint of {RunDirectory} ({Names(List().Where(c => c.Path != full))}), or leave the key out to resume from the newest whole one.");
            return (step, full);
        }
        var reasons = new List<string>();
        var good = LatestGood(line =>
        {
            reasons.Add(line);
            skipped?.Invoke(line);
        });
        if (good is null && reasons.Count > 0)
        {
            throw new CheckpointException(
                $"{RunDirectory}: none of its {reasons.Count} checkpoint(s) can be resumed: {string.Join("; ", reasons)}. " +
                "Restore a checkpoint from a copy, or start the run afresh in another --out folder.");
        }
        return good;
    }

    private static string Names(IEnumerable<(long Step, string Path)> checkpoints) =>
        checkpoints.Select(c => Path.GetFileName(c.Path)).ToList() is { Count: > 0 } names ? string.Join(", ", names) : "none there";

    /// <summary>Reads a checkpoint's state and loads its weights and optimizer moments in place.</summary>
    public TrainerState Load(string checkpoint, IReadOnlyDictionary<string, Module> models, Optimizer? optimizer)
    {
        var statePath = Path.Combine(checkpoint, StateFile);
        if (!File.Exists(statePath))
            throw new InvalidDataException($"{checkpoint}: not a complete checkpoint (no {StateFile})");
        var state = TrainerState.Parse(File.ReadAllText(statePath), statePath);
        foreach (var (name, model) in models)
        {
            var dir = Path.Combine(checkpoint, name);
            var trainable = model.NamedParameters().ToDictionary(p => p.Name, p => p.Param.RequiresGrad);
            PretrainedIO.LoadWeights(model, dir);
            LoadAdapters(model, dir);
            foreach (var (pname, p) in model.NamedParameters())
                p.RequiresGrad = trainable[pname];
        }
        if (optimizer is not null)
            optimizer.LoadStateDict(ReadOptimizer(checkpoint));
        return state;
    }

    /// <summary>
    /// The optimizer state of a checkpoint: optimizer.bin, or the ZeRO-1 shards merged (any
    /// number of them, so a run resumes on a different number of ranks).
    /// </summary>
    public static OptimizerState ReadOptimizer(string checkpoint)
    {
        var whole = Path.Combine(checkpoint, OptimizerFile);
        if (File.Exists(whole))
        {
            using var fs = File.OpenRead(whole);
            return OptimizerState.Read(fs);
        }
        var shards = Directory.GetFiles(checkpoint, "optimizer.shard-*-of-*.bin");
        if (shards.Length == 0)
            throw new InvalidDataException($"{checkpoint}: no {OptimizerFile} and no optimizer shards ({ShardFile(0, 2)}, …)");
        int ranks = ParseShardCount(shards[0]);
        var states = new List<OptimizerState>();
        for (int r = 0; r < ranks; r++)
        {
            var path = Path.Combine(checkpoint, ShardFile(r, ranks));
            if (!File.Exists(path))
                throw new InvalidDataException($"{checkpoint}: optimizer shard {r} of {ranks} is missing ({Path.GetFileName(path)})");
            using var fs = File.OpenRead(path);
            try
            {
                states.Add(OptimizerState.Read(fs));
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: {e.Message}", e);
            }
        }
        return Tensors.Distributed.ZeroRedundancy.Merge(states);
    }

    private static int ParseShardCount(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        int of = name.LastIndexOf("-of-", StringComparison.Ordinal);
        return of > 0 && int.TryParse(name.AsSpan(of + 4), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new InvalidDataException($"{path}: an optimizer shard's name must be optimizer.shard-R-of-N.bin");
    }

    // Keeps the newest keepLast checkpoints and always the one just written: after a resume that
    // fell back past damaged checkpoints those are newer, and counting only them would delete the
    // newest whole one.
    private void Prune(string justWritten)
    {
        var all = List();
        for (int i = 0; i < all.Count - keepLast; i++)
        {
            if (all[i].Path != justWritten)
                Directory.Delete(all[i].Path, recursive: true);
        }
        foreach (var stale in Directory.GetDirectories(RunDirectory, $".{Prefix}*.tmp"))
            DeleteQuietly(stale);
    }

    private static void DeleteQuietly(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // another process may own it; it is never read, so leaving it is harmless
        }
    }

    private static bool IsAdapter(string name) => name.Contains(".lora_", StringComparison.Ordinal);

    // Copies saved adapter weights into the model's own tensors, so optimizer state stays attached to them.
    private static void LoadAdapters(Module model, string dir)
    {
        var expected = model.NamedParameters().Where(p => IsAdapter(p.Name)).ToList();
        var path = Path.Combine(dir, AdapterFile);
        if (expected.Count == 0)
            return;
        if (!File.Exists(path))
            throw new InvalidDataException($"{dir}: the model has LoRA adapters but the checkpoint holds no {AdapterFile}");
        using var file = SafeTensorsFile.Open(path);
        foreach (var (name, p) in expected)
        {
            var t = file.Read(name);
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", t.Shape)}], the model expects [{string.Join(", ", p.Shape)}]");
            p.Assign(t);
        }
    }
}
