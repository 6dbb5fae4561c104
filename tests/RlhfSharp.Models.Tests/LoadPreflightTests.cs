using System.Text.Json.Nodes;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

public sealed class LoadPreflightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("preflight-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SavedLlama(string name = "m")
    {
        var dir = Path.Combine(_dir, name);
        PretrainedIO.Save(new CausalLM(TinyModels.Llama(), new Generator(3)), dir);
        return dir;
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "config.json");
        var obj = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(obj);
        File.WriteAllText(path, obj.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void ShapesFromTheConfigAloneAreTheModelsParameters(string name)
    {
        var cfg = TinyModels.ByName(name);
        foreach (var (model, scorer) in new (Module, bool)[] { (new CausalLM(cfg), false), (new SequenceScorer(cfg), true) })
        {
            var built = model.NamedParameters().Select(p => $"{p.Name} [{string.Join(", ", p.Param.Shape)}]");
            var predicted = LoadPreflight.ParameterShapes(cfg, scorer).Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]");
            Assert.Equal(built, predicted);
        }
    }

    [Fact]
    public void AbsurdConfigFailsOnMemoryBeforeAllocating()
    {
        var dir = SavedLlama();
        EditConfig(dir, o =>
        {
            o["hidden_size"] = 1_000_000;
            o["intermediate_size"] = 4_000_000;
            o["num_hidden_layers"] = 1000;
            o["num_attention_heads"] = 1000;
            o["num_key_value_heads"] = 1000;
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsAssignableFrom<IUserError>(ex);
        Assert.Contains("1000 layers, hidden size 1000000", ex.Message);
        Assert.Contains("needs about", ex.Message);
        Assert.Contains("available", ex.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes before failing");
    }

    [Fact]
    public void MemoryEstimateComparesWithWhatIsAvailable()
    {
        var cfg = TinyModels.Llama();
        double needed = LoadPreflight.EstimateLoadBytes(cfg, scorer: false, bf16Storage: false);
        long parameters = new CausalLM(cfg).ParameterCount();
        Assert.True(needed >= parameters * 4.0);
        LoadPreflight.CheckMemory(cfg, "m", scorer: false, bf16Storage: false, availableBytes: (long)needed);
        var ex = Assert.Throws<CheckpointMismatchException>(() => LoadPreflight.CheckMemory(cfg, "m", false, false, availableBytes: (long)needed - 1));
        Assert.StartsWith("m: ", ex.Message);
        Assert.True(LoadPreflight.AvailableMemoryBytes() > 0);
    }

    [Fact]
    public void HeaderMismatchNamesTheTensorBeforeTheModelIsBuilt()
    {
        var dir = SavedLlama();
        // A config describing a wider model than the weights: the header says otherwise, so the
        // load fails naming the first tensor, and before the wider model takes memory.
        EditConfig(dir, o =>
        {
            o["hidden_size"] = 4096;
            o["intermediate_size"] = 11008;
            o["num_attention_heads"] = 32;
            o["num_key_value_heads"] = 32;
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("'model.embed_tokens.weight' has shape [37, 16]", ex.Message);
        Assert.Contains("[37, 4096]", ex.Message);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes before failing");
    }

    [Fact]
    public void IntegerWeightsAreRejectedNamingTheTensor()
    {
        var dir = SavedLlama();
        var path = Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName);
        List<KeyValuePair<string, Tensor>> tensors;
        using (var st = SafeTensorsFile.Open(path))
            tensors = st.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name,
                e.Name == "model.norm.weight" ? Tensor.FromArray(new int[e.Shape[0]], e.Shape) : st.Read(e.Name))).ToList();
        SafeTensorsWriter.Save(path, tensors);
        var ex = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        Assert.Contains("'model.norm.weight' is stored as I32", ex.Message);
    }

    [Fact]
    public void LongContextConfigDoesNotBuildRotaryTablesUpFront()
    {
        var cfg = TinyModels.Llama() with { MaxPositions = 1 << 22 };
        long before = GC.GetAllocatedBytesForCurrentThread();
        var model = new CausalLM(cfg, new Generator(1));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        var ids = Tensor.FromArray([1, 2, 3], 1, 3);
        var shortCfg = new CausalLM(cfg with { MaxPositions = 64 }, new Generator(1));
        Assert.Equal(shortCfg.Forward(ids).ToArray(), model.Forward(ids).ToArray());
    }
}
