using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;

namespace RlhfSharp.Training.Tests;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static ModelConfig Tiny() => new()
    {
        ModelType = "llama",
        VocabSize = 19,
        HiddenSize = 8,
        NumLayers = 1,
        NumHeads = 2,
        NumKeyValueHeads = 1,
        IntermediateSize = 12,
        MaxPositions = 16,
    };

    private static void Step(CausalLM model, AdamW opt, Tensor ids)
    {
        opt.ZeroGrad();
        var logits = model.Forward(ids);
        F.CrossEntropy(logits.Narrow(1, 0, 5).Reshape(-1, 19), ids.Narrow(1, 1, 5).Contiguous().Reshape(-1)).Backward();
        opt.Step();
    }

    [Fact]
    public void ResumingFromACheckpointContinuesBitIdentically()
    {
        var ids = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (i * 7) % 19).ToArray(), 2, 6);
        var straight = new CausalLM(Tiny(), new Generator(1));
        var opt1 = new AdamW(straight.TrainableParameters(), lr: 1e-2f);
        for (int i = 0; i < 6; i++)
            Step(straight, opt1, ids);

        var first = new CausalLM(Tiny(), new Generator(1));
        var opt2 = new AdamW(first.TrainableParameters(), lr: 1e-2f);
        for (int i = 0; i < 3; i++)
            Step(first, opt2, ids);
        var store = new CheckpointStore(_dir);
        var state = new TrainerState(3);
        state.Set("rng", new Generator(5).GetState());
        store.Save(state, new Dictionary<string, Module> { ["policy"] = first }, opt2);

        var resumed = new CausalLM(Tiny(), new Generator(99));
        var opt3 = new AdamW(resumed.TrainableParameters(), lr: 1e-2f);
        var loaded = store.Load(store.Latest()!.Value.Path, new Dictionary<string, Module> { ["policy"] = resumed }, opt3);
        Assert.Equal(3, loaded.Step);
        Assert.Equal(new Generator(5).GetState(), loaded.GetWords("rng"));
        for (int i = 0; i < 3; i++)
            Step(resumed, opt3, ids);

        var a = straight.NamedParameters().Select(p => p.Param.Value.ToArray()).ToList();
        var b = resumed.NamedParameters().Select(p => p.Param.Value.ToArray()).ToList();
        for (int i = 0; i < a.Count; i++)
            Assert.Equal(a[i], b[i]);
    }

    [Fact]
    public void IncompleteCheckpointsAreIgnoredAndOldOnesPruned()
    {
        var model = new CausalLM(Tiny(), new Generator(1));
        var store = new CheckpointStore(_dir, keepLast: 2);
        foreach (var step in new long[] { 10, 9, 20, 30 })
            store.Save(new TrainerState(step), new Dictionary<string, Module> { ["policy"] = model }, null);
        Assert.Equal([20L, 30L], store.List().Select(c => c.Step));
        // A folder without trainer_state.json (a crash mid-write in an older layout) is not a checkpoint.
        Directory.CreateDirectory(Path.Combine(_dir, "checkpoint-40"));
        Assert.Equal(30, store.Latest()!.Value.Step);
        Assert.Empty(Directory.GetDirectories(_dir, ".checkpoint-*"));
    }

    [Fact]
    public void MissingStateIsAClearError()
    {
        var dir = Path.Combine(_dir, "checkpoint-5");
        Directory.CreateDirectory(dir);
        var ex = Assert.Throws<InvalidDataException>(() => new CheckpointStore(_dir).Load(dir, new Dictionary<string, Module>(), null));
        Assert.Contains("trainer_state.json", ex.Message);
        File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{\"step\": ");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => new CheckpointStore(_dir).Load(dir, new Dictionary<string, Module>(), null)).Message);
    }
}
