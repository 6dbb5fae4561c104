using RlhfSharp.Models.Gguf;
using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf export</c> through the real process: HF and GGUF round trips, dtypes, LoRA merging, and refusals.</summary>
[Collection(ExportCollection.Name)]
public sealed class ExportCommandTests(ExportFixture fx)
{
    private static readonly Tensor Ids = Tensor.FromArray(new[] { 3, 271, 14, 91, 36, 56, 58, 2, 14, 3, 273, 14 }, 1, 12);

    private static (int Code, string Out, string Err) Rlhf(params string[] args) => RlhfProcess.Run(args);

    [Fact]
    public void HfExportLoadsBackWithTheSameLogitsAndTokenizer()
    {
        var outDir = fx.NewPath("hf");
        var r = Rlhf("export", "--model", fx.Model, "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("model.safetensors", r.Out);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        Assert.Equal(fx.Load().Forward(Ids).ToArray(), PretrainedIO.LoadCausalLM(outDir).Forward(Ids).ToArray());
        Assert.Equal(File.ReadAllText(Path.Combine(fx.Model, "tokenizer.json")), File.ReadAllText(Path.Combine(outDir, "tokenizer.json")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(outDir)!, "*.partial"));
    }

    [Theory]
    [InlineData("bf16", SafeTensorsDType.BF16, "bfloat16")]
    [InlineData("f16", SafeTensorsDType.F16, "float16")]
    public void HfExportStoresTheAskedDtype(string flag, SafeTensorsDType expected, string torchDtype)
    {
        var outDir = fx.NewPath("hf-" + flag);
        var r = Rlhf("export", "--model", fx.Model, "--out", outDir, "--dtype", flag);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(torchDtype, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!["torch_dtype"]!.GetValue<string>());
        using var file = SafeTensorsFile.Open(Path.Combine(outDir, "model.safetensors"));
        Assert.All(file.Entries, e => Assert.Equal(expected, e.DType));
        var original = fx.Load().Body.TokenEmbedding.Weight.Value.ToArray();
        var stored = PretrainedIO.LoadCausalLM(outDir).Body.TokenEmbedding.Weight.Value.ToArray();
        Func<float, float> round = expected == SafeTensorsDType.F16 ? v => (float)(Half)v : v => BFloat16.ToFloat(BFloat16.FromFloat(v));
        Assert.Equal(original.Select(round), stored);
    }

    [Fact]
    public void GgufExportReloadsWithTheSameLogitsAndEmbedsTheTokenizer()
    {
        var outDir = fx.NewPath("gguf");
        var r = Rlhf("export", "--model", fx.Model, "--out", outDir, "--format", "gguf");
        Assert.True(r.Code == 0, r.Err);
        var path = Path.Combine(outDir, "model.gguf");
        Assert.Equal(fx.Load().Forward(Ids).ToArray(), LlamaGguf.Load(path).Forward(Ids).ToArray());
        var file = GgufFile.Open(path);
        var tok = GgufTokenizer.Read(file);
        Assert.Equal("smollm", tok.Pre);
        Assert.Equal(Enumerable.Range(0, fx.Tokenizer.VocabSize).Select(i => fx.Tokenizer.IdToToken(i)), tok.Tokens);
        Assert.Equal(fx.Tokenizer.Merges.Select(m => $"{m.Left} {m.Right}"), tok.Merges);
        Assert.Equal(GgufTokenType.Control, tok.TokenTypes[fx.Tokenizer.TokenToId("<|im_end|>")!.Value]);
        Assert.Equal(fx.Tokenizer.EosTokenId, tok.EosTokenId);
        Assert.Equal(fx.Tokenizer.PadTokenId, tok.PadTokenId);
    }

    [Fact]
    public void HfExportIsShardedBeyondMaxShardSize()
    {
        var outDir = fx.NewPath("sharded");
        var r = Rlhf("export", "--model", fx.Model, "--out", outDir, "--max-shard-size", "100KB");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(outDir, SafeTensorsCheckpoint.IndexFileName)));
        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")));
        Assert.True(Directory.GetFiles(outDir, "model-*-of-*.safetensors").Length > 1);
        Assert.Equal(fx.Load().Forward(Ids).ToArray(), PretrainedIO.LoadCausalLM(outDir).Forward(Ids).ToArray());
    }

    [Theory]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("500mb", 500_000_000L)]
    [InlineData("200 KB", 200_000L)]
    [InlineData("1234", 1234L)]
    public void ShardSizesParseAsHuggingFaceSpellsThem(string text, long bytes) =>
        Assert.Equal(bytes, Training.Export.ShardSize.Parse(text, "--max-shard-size"));

    [Theory]
    [InlineData("")]
    [InlineData("2.5GB")]
    [InlineData("-1MB")]
    [InlineData("0")]
    [InlineData("5TB")]
    [InlineData("99999999999999999999GB")]
    public void MalformedShardSizesAreNamed(string text)
    {
        var e = Assert.Throws<Training.Export.ExportException>(() => Training.Export.ShardSize.Parse(text, "--max-shard-size"));
        Assert.Contains("--max-shard-size", e.Message);
    }

    [Fact]
    public void ANonEmptyOutIsKeptUnlessForced()
    {
        var outDir = fx.NewPath("busy");
        Directory.CreateDirectory(outDir);
        var keep = Path.Combine(outDir, "keep.txt");
        File.WriteAllText(keep, "mine");
        var r = Rlhf("export", "--model", fx.Model, "--out", outDir);
        Assert.Equal(2, r.Code);
        Assert.Contains("is not empty", r.Err);
        Assert.Contains("--force", r.Err);
        Assert.Equal("mine", File.ReadAllText(keep));

        r = Rlhf("export", "--model", fx.Model, "--out", outDir, "--force", "--format", "gguf");
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(keep));
        Assert.Equal(["model.gguf"], Directory.GetFiles(outDir).Select(Path.GetFileName));
    }

    [Fact]
    public void AFailedExportLeavesAForcedOutAsItWas()
    {
        var outDir = fx.NewPath("kept");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        var gpt2 = Gpt2Folder();
        var r = Rlhf("export", "--model", gpt2, "--out", outDir, "--force", "--format", "gguf");
        Assert.Equal(2, r.Code);
        Assert.Contains("llama, mistral or qwen2", r.Err);
        Assert.Contains("--format hf", r.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "keep.txt")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(outDir)!, "*.partial"));
    }

    [Fact]
    public void MergeLoraEqualsTheModelWithItsAdapter()
    {
        var model = fx.Load();
        var lora = new LoraConfig { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };
        PeftIO.Apply(model, lora, new Generator(5));
        var rng = new Generator(6);
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is Linear { Lora: { } a })
                a.B.Weight.Assign(rng.Normal(a.B.Weight.Shape, 0f, 0.2f));
        }
        model.Eval();
        var withAdapter = model.Forward(Ids).ToArray();
        model.SetAdaptersEnabled(false);
        var baseOnly = model.Forward(Ids).ToArray();
        model.SetAdaptersEnabled(true);
        var adapterDir = fx.NewPath("adapter");
        PeftIO.Save(model, lora, adapterDir, fx.Model);

        foreach (var format in new[] { "hf", "gguf" })
        {
            var outDir = fx.NewPath("merged-" + format);
            var r = Rlhf("export", "--model", adapterDir, "--merge-lora", "--out", outDir, "--format", format);
            Assert.True(r.Code == 0, r.Err);
            var merged = format == "hf" ? PretrainedIO.LoadCausalLM(outDir) : LlamaGguf.Load(Path.Combine(outDir, "model.gguf"));
            var logits = merged.Forward(Ids).ToArray();
            // W + (α/r)·B·A in one weight rounds differently from W·x + (α/r)·B·(A·x); the adapter moves logits by far more.
            Assert.All(logits.Zip(withAdapter), p => Assert.Equal(p.Second, p.First, 3e-4f));
            Assert.True(logits.Zip(baseOnly).Max(p => Math.Abs(p.First - p.Second)) > 0.05f);
        }
    }

    [Fact]
    public void AnAdapterFolderNeedsMergeLoraAndItsBase()
    {
        var model = fx.Load();
        var lora = new LoraConfig { Rank = 2 };
        PeftIO.Apply(model, lora, new Generator(5));
        var adapterDir = fx.NewPath("adapter");
        PeftIO.Save(model, lora, adapterDir, Path.Combine(fx.Dir, "no-such-base"));

        var r = Rlhf("export", "--model", adapterDir, "--out", fx.NewPath("x"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--merge-lora", r.Err);

        r = Rlhf("export", "--model", adapterDir, "--merge-lora", "--out", fx.NewPath("x"));
        Assert.Equal(2, r.Code);
        Assert.Contains("base_model_name_or_path", r.Err);
        Assert.Contains("--base", r.Err);

        var outDir = fx.NewPath("based");
        r = Rlhf("export", "--model", adapterDir, "--merge-lora", "--base", fx.Model, "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(outDir, "tokenizer.json")));

        r = Rlhf("export", "--model", fx.Model, "--merge-lora", "--out", fx.NewPath("x"));
        Assert.Equal(2, r.Code);
        Assert.Contains("adapter_config.json", r.Err);
    }

    [Fact]
    public void BadFlagsAreUsageErrors()
    {
        var r = Rlhf("export", "--model", fx.Model, "--out", fx.NewPath("x"), "--dtype", "q4");
        Assert.Equal(2, r.Code);
        Assert.Contains("q4", r.Err);
        r = Rlhf("export", "--model", fx.Model, "--out", fx.NewPath("x"), "--format", "onnx");
        Assert.Equal(2, r.Code);
        r = Rlhf("export", "--model", Path.Combine(fx.Dir, "missing"), "--out", fx.NewPath("x"));
        Assert.Equal(2, r.Code);
        Assert.Contains("no such folder", r.Err);
        r = Rlhf("export", "--model", fx.Model, "--out", fx.Model, "--force");
        Assert.Equal(2, r.Code);
        Assert.Contains("is the folder being exported", r.Err);
    }

    /// <summary>A tiny GPT-2 folder with the task's tokenizer.</summary>
    private string Gpt2Folder()
    {
        var dir = fx.NewPath("gpt2");
        var cfg = new Models.Config.ModelConfig
        {
            ModelType = "gpt2",
            VocabSize = fx.Tokenizer.VocabSize,
            HiddenSize = 16,
            NumLayers = 1,
            NumHeads = 2,
            NumKeyValueHeads = 2,
            IntermediateSize = 32,
            MaxPositions = 32,
            AttentionBias = true,
            MlpBias = true,
            HiddenAct = "gelu_new",
        };
        PretrainedIO.Save(new CausalLM(cfg, new Generator(1)), dir);
        fx.Tokenizer.Save(dir);
        return dir;
    }
}
