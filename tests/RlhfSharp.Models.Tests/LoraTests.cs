using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Models.Tests;

public sealed class LoraTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (CausalLM Model, Tensor Ids) Setup(string name = "llama-gqa-untied")
    {
        var cfg = TinyModels.ByName(name);
        var model = new CausalLM(cfg, new Generator(17));
        return (model, TransformerTests.RandomIds(new Generator(3), 2, 6, cfg.VocabSize));
    }

    private static Tensor Loss(CausalLM model, Tensor ids, int vocab) =>
        F.CrossEntropy(model.Forward(ids).Narrow(1, 0, 5).Reshape(-1, vocab), ids.Narrow(1, 1, 5).Contiguous().Reshape(-1));

    [Fact]
    public void TrainsOnlyTheAdapterParameters()
    {
        var (model, ids) = Setup();
        var before = model.NamedParameters().ToDictionary(p => p.Name, p => p.Param.Value.ToArray());
        long trainable = PeftIO.Apply(model, new LoraConfig { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"] }, new Generator(1));
        // 2 layers × (q: A 4×16 + B 16×4, v: A 4×16 + B 8×4)
        Assert.Equal(2 * ((4 * 16) + (16 * 4) + (4 * 16) + (8 * 4)), trainable);
        Assert.All(model.NamedParameters(), p => Assert.Equal(p.Name.Contains(".lora_"), p.Param.RequiresGrad));

        var opt = new AdamW(model.TrainableParameters(), lr: 1e-2f);
        for (int i = 0; i < 3; i++)
        {
            opt.ZeroGrad();
            Loss(model, ids, model.Config.VocabSize).Backward();
            opt.Step();
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.Contains(".lora_"))
                continue;
            Assert.Equal(before[name], p.Value.ToArray());
        }
        Assert.Contains(model.NamedParameters(), p => p.Name.EndsWith("lora_B.weight") && p.Param.Value.ToArray().Any(v => v != 0));
    }

    [Fact]
    public void AdapterStartsAsIdentityAndDisabledAdaptersGiveTheBaseModel()
    {
        var (model, ids) = Setup("gpt2");
        using var _ = GradMode.NoGrad();
        var baseLogits = model.Forward(ids).ToArray();
        PeftIO.Apply(model, new LoraConfig { Rank = 2, TargetModules = ["c_attn", "c_fc"] }, new Generator(1));
        Assert.Equal(baseLogits, model.Forward(ids).ToArray()); // B = 0 at init
        foreach (var (name, p) in model.NamedParameters().Where(p => p.Name.EndsWith("lora_B.weight")))
            p.Value = new Generator(5).Normal(p.Shape, 0, 0.5f);
        Assert.NotEqual(baseLogits, model.Forward(ids).ToArray());
        Assert.Equal(4, model.SetAdaptersEnabled(false));
        Assert.Equal(baseLogits, model.Forward(ids).ToArray());
        model.SetAdaptersEnabled(true);
    }

    [Fact]
    public void MergeAndUnmergeRoundTrip()
    {
        var (model, ids) = Setup();
        PeftIO.Apply(model, new LoraConfig { Rank = 3, Alpha = 6 }, new Generator(1));
        foreach (var (_, p) in model.NamedParameters().Where(p => p.Name.EndsWith("lora_B.weight")))
            p.Value = new Generator(8).Normal(p.Shape, 0, 0.3f);
        using var _ = GradMode.NoGrad();
        var withAdapter = model.Forward(ids).ToArray();
        var weightsBefore = model.NamedParameters().Where(p => !p.Name.Contains(".lora_")).Select(p => p.Param.Value.ToArray()).ToList();
        var layers = model.NamedModules().Select(m => m.Module).OfType<RlhfSharp.Models.Modules.Linear>().Where(l => l.Lora is not null).ToList();
        layers.ForEach(l => l.Lora!.Merge());
        TransformerTests.AssertClose(withAdapter, model.Forward(ids).ToArray(), 1e-5f, "merged");
        layers.ForEach(l => l.Lora!.Unmerge());
        TransformerTests.AssertClose(withAdapter, model.Forward(ids).ToArray(), 1e-5f, "unmerged");
        var weightsAfter = model.NamedParameters().Where(p => !p.Name.Contains(".lora_")).Select(p => p.Param.Value.ToArray()).ToList();
        for (int i = 0; i < weightsBefore.Count; i++)
            TransformerTests.AssertClose(weightsBefore[i], weightsAfter[i], 1e-6f, "weight");
    }

    [Fact]
    public void PeftLayoutSavesAndLoads()
    {
        var (model, ids) = Setup();
        var cfg = new LoraConfig { Rank = 2, Alpha = 4, TargetModules = ["q_proj", "o_proj"] };
        PeftIO.Apply(model, cfg, new Generator(1));
        foreach (var (_, p) in model.NamedParameters().Where(p => p.Name.EndsWith("lora_B.weight")))
            p.Value = new Generator(8).Normal(p.Shape, 0, 0.3f);
        PeftIO.Save(model, cfg, _dir);
        using (var st = RlhfSharp.Models.SafeTensors.SafeTensorsFile.Open(Path.Combine(_dir, PeftIO.WeightsFile)))
        {
            Assert.True(st.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
            Assert.Equal([16, 2], st.Entry("base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight").Shape);
        }
        var json = File.ReadAllText(Path.Combine(_dir, PeftIO.ConfigFile));
        Assert.Contains("\"peft_type\": \"LORA\"", json);
        Assert.Contains("\"r\": 2", json);

        var fresh = new CausalLM(model.Config, new Generator(17));
        PeftIO.Load(fresh, _dir, new Generator(99));
        using var _ = GradMode.NoGrad();
        Assert.Equal(model.Forward(ids).ToArray(), fresh.Forward(ids).ToArray());
    }

    [Fact]
    public void UnknownTargetModulesNameTheAvailableOnes()
    {
        var (model, _) = Setup();
        var ex = Assert.Throws<ArgumentException>(() => PeftIO.Apply(model, new LoraConfig { TargetModules = ["c_attn"] }, new Generator(1)));
        Assert.Contains("q_proj", ex.Message);
    }
}
