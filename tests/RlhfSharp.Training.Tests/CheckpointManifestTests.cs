using System.Security.Cryptography;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// Every checkpoint carries a manifest of its files' sizes and SHA-256; a resume skips damaged
/// checkpoints (saying which and why) and continues from the newest whole one.
/// </summary>
public sealed class CheckpointManifestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CausalLM Model() => new(CheckpointStoreTests.Tiny(), new Generator(1));

    // Checkpoints at the given steps, each with weights and AdamW state.
    private CheckpointStore SaveAt(params long[] steps)
    {
        var model = Model();
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-2f);
        var store = new CheckpointStore(_dir, keepLast: 10);
        foreach (var step in steps)
            store.Save(new TrainerState(step), new Dictionary<string, Module> { ["policy"] = model }, opt);
        return store;
    }

    private string Checkpoint(long step) => Path.Combine(_dir, $"checkpoint-{step}");

    private static void FlipByte(string path, long offsetFromEnd = 5)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        fs.Position = fs.Length - offsetFromEnd;
        int b = fs.ReadByte();
        fs.Position = fs.Length - offsetFromEnd;
        fs.WriteByte((byte)(b ^ 0x10));
    }

    [Fact]
    public void TheManifestListsEveryFileWithItsSizeAndSha256()
    {
        SaveAt(10);
        var dir = Checkpoint(10);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, CheckpointStore.ManifestFile)))!;
        var listed = manifest["files"]!.AsArray().ToDictionary(f => f!["path"]!.GetValue<string>(), f => f!);
        var onDisk = Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(f => f != CheckpointStore.ManifestFile)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(onDisk, listed.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("policy/model.safetensors", onDisk);
        Assert.Contains(CheckpointStore.OptimizerFile, onDisk);
        Assert.Contains(CheckpointStore.StateFile, onDisk);
        foreach (var rel in onDisk)
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, rel));
            Assert.Equal(bytes.LongLength, listed[rel]["size"]!.GetValue<long>());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), listed[rel]["sha256"]!.GetValue<string>());
        }
        Assert.Null(CheckpointStore.Problem(dir));
        Assert.Equal(10, new CheckpointStore(_dir).LatestGood()!.Value.Step);
    }

    [Fact]
    public void AFlippedByteInTheLatestWeightsFallsBackToThePreviousCheckpoint()
    {
        var store = SaveAt(10, 20);
        FlipByte(Path.Combine(Checkpoint(20), "policy", "model.safetensors"));
        var skipped = new List<string>();
        var point = store.ResumePoint(skipped: skipped.Add);
        Assert.Equal((10L, Checkpoint(10)), point);
        var line = Assert.Single(skipped);
        Assert.Contains(Checkpoint(20), line);
        Assert.Contains("policy/model.safetensors", line);
        Assert.Contains("SHA-256", line);
    }

    [Fact]
    public void ACheckpointWithoutManifestIsSkipped()
    {
        var store = SaveAt(10, 20);
        File.Delete(Path.Combine(Checkpoint(20), CheckpointStore.ManifestFile));
        var skipped = new List<string>();
        Assert.Equal(10, store.LatestGood(skipped.Add)!.Value.Step);
        Assert.Contains("no manifest.json", Assert.Single(skipped));
    }

    [Fact]
    public void ACheckpointMissingAFileOrWithATruncatedOneIsSkipped()
    {
        var store = SaveAt(10, 20, 30);
        File.Delete(Path.Combine(Checkpoint(30), CheckpointStore.OptimizerFile));
        var weights = Path.Combine(Checkpoint(20), "policy", "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..^4]);
        var skipped = new List<string>();
        Assert.Equal(10, store.LatestGood(skipped.Add)!.Value.Step);
        Assert.Equal(2, skipped.Count);
        Assert.Contains($"{CheckpointStore.OptimizerFile} is missing", skipped[0]);
        Assert.Contains("policy/model.safetensors has", skipped[1]);
        Assert.Contains("bytes, the manifest says", skipped[1]);
    }

    [Fact]
    public void AnExplicitlyNamedDamagedCheckpointIsAnErrorNotAFallback()
    {
        var store = SaveAt(10, 20);
        FlipByte(Path.Combine(Checkpoint(20), CheckpointStore.OptimizerFile));
        var ex = Assert.Throws<CheckpointException>(() => store.ResumePoint(Checkpoint(20)));
        Assert.IsAssignableFrom<IUserError>(ex);
        Assert.Contains(Checkpoint(20), ex.Message);
        Assert.Contains("optimizer.bin does not match its SHA-256", ex.Message);
        Assert.Contains("checkpoint-10", ex.Message); // the one that would work
        // A whole one named explicitly is used even though a newer one exists.
        var store2 = SaveAt(30);
        Assert.Equal((10L, Checkpoint(10)), store2.ResumePoint(Checkpoint(10)));
        Assert.Contains("is not a checkpoint-<step> folder", Assert.Throws<CheckpointException>(() => store.ResumePoint(_dir)).Message);
    }

    [Fact]
    public void WhenEveryCheckpointIsDamagedTheErrorNamesTheFolderAndEachProblem()
    {
        var store = SaveAt(10, 20);
        FlipByte(Path.Combine(Checkpoint(10), CheckpointStore.StateFile), 3);
        File.Delete(Path.Combine(Checkpoint(20), CheckpointStore.ManifestFile));
        var ex = Assert.Throws<CheckpointException>(() => store.ResumePoint());
        Assert.IsAssignableFrom<IUserError>(ex);
        Assert.Contains($"{_dir}: none of its 2 checkpoint(s) can be resumed", ex.Message);
        Assert.Contains("checkpoint-20: skipped, it has no manifest.json", ex.Message);
        Assert.Contains("checkpoint-10: skipped, trainer_state.json does not match its SHA-256", ex.Message);
        Assert.Null(store.LatestGood());
    }

    [Fact]
    public void AFolderWithNoCheckpointsResumesFromNothing()
    {
        var store = new CheckpointStore(_dir);
        Assert.Null(store.ResumePoint());
        Assert.Null(store.LatestGood());
    }

    [Fact]
    public void PruningNeverDeletesTheCheckpointJustWrittenWhenDamagedOnesAreNewer()
    {
        // A run resumed from checkpoint-10 past a damaged checkpoint-20 writes checkpoint-15 next.
        var model = Model();
        var models = new Dictionary<string, Module> { ["policy"] = model };
        var store = new CheckpointStore(_dir, keepLast: 1);
        store.Save(new TrainerState(10), models, null);
        CopyDirectory(Checkpoint(10), Checkpoint(20));
        FlipByte(Path.Combine(Checkpoint(20), "policy", "model.safetensors"));
        store.Save(new TrainerState(15), models, null);
        Assert.True(Directory.Exists(Checkpoint(15)), "keeping only the newest checkpoint deleted the one just written, the only whole one");
        Assert.False(Directory.Exists(Checkpoint(10)));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
