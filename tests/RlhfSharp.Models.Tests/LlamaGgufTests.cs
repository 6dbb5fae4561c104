using RlhfSharp.Models.Config;
using RlhfSharp.Models.Gguf;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

/// <summary>Llama-family models as GGUF: tensor names, the q/k row permutation, reload, and what is refused.</summary>
public sealed class LlamaGgufTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llama-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A model whose every weight (norms and biases included) is random, so nothing passes by being 1 or 0.</summary>
    internal static CausalLM RandomModel(ModelConfig cfg, ulong seed = 7)
    {
        var model = new CausalLM(cfg, new Generator(seed));
        var rng = new Generator(seed + 1);
        foreach (var (_, p) in model.NamedParameters())
            p.Assign(rng.Normal(p.Shape, 0f, 0.3f).Add(p.Shape.Length == 1 ? 1f : 0f));
        return model;
    }

    internal static GgufTokenizer Vocab(int n) => new()
    {
        Tokens = [.. Enumerable.Range(0, n).Select(i => $"t{i}")],
        TokenTypes = [.. Enumerable.Range(0, n).Select(i => i < 3 ? GgufTokenType.Control : GgufTokenType.Normal)],
        Merges = ["t 1", "t 2"],
        Pre = "gpt-2",
        BosTokenId = 1,
        EosTokenId = 2,
        PadTokenId = 0,
    };

    private static readonly Tensor Ids = Tensor.FromArray(new[] { 3, 9, 1, 30, 4, 4, 17, 2 }, 1, 8);

    [Theory]
    [InlineData("llama", false, 2, false, GgmlType.F32)]
    [InlineData("llama", true, 1, false, GgmlType.F32)]
    [InlineData("mistral", false, 4, false, GgmlType.F32)]
    [InlineData("qwen2", true, 2, true, GgmlType.F32)]
    [InlineData("llama", false, 2, true, GgmlType.F32)]
    public void ReloadGivesTheSameLogits(string type, bool tied, int kvHeads, bool bias, GgmlType dtype)
    {
        var cfg = TinyModels.Llama(tied, kvHeads, bias, type);
        var model = RandomModel(cfg);
        var path = Path.Combine(_dir, "m.gguf");
        LlamaGguf.Write(model, Vocab(cfg.VocabSize), path, dtype, "tiny");
        var back = LlamaGguf.Load(path);
        Assert.Equal(cfg.TieWordEmbeddings, back.Config.TieWordEmbeddings);
        Assert.Equal(cfg.NumKeyValueHeads, back.Config.NumKeyValueHeads);
        Assert.Equal(model.Forward(Ids).ToArray(), back.Forward(Ids).ToArray());
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void HalfPrecisionFilesHoldRoundedMatricesAndF32Norms(GgmlType dtype)
    {
        var cfg = TinyModels.Llama();
        var model = RandomModel(cfg);
        var path = Path.Combine(_dir, "h.gguf");
        LlamaGguf.Write(model, Vocab(cfg.VocabSize), path, dtype, "tiny");
        var f = GgufFile.Open(path);
        Assert.Equal((uint)(dtype == GgmlType.F16 ? GgufFileType.MostlyF16 : GgufFileType.MostlyBF16), f.Get<uint>("general.file_type"));
        Assert.Equal(dtype, f.Tensor("token_embd.weight").Type);
        Assert.Equal(GgmlType.F32, f.Tensor("blk.0.attn_norm.weight").Type);
        Assert.Equal(GgmlType.F32, f.Tensor("output_norm.weight").Type);
        var embed = model.Body.TokenEmbedding.Weight.Value.ToArray();
        Func<float, float> round = dtype == GgmlType.F16 ? v => (float)(Half)v : v => BFloat16.ToFloat(BFloat16.FromFloat(v));
        Assert.Equal(embed.Select(round), f.ReadFloats("token_embd.weight"));
    }

    [Fact]
    public void MetadataAndNamesFollowLlamaCpp()
    {
        var cfg = TinyModels.Llama(tied: false, kvHeads: 2) with { RopeTheta = 500000f, MaxPositions = 48 };
        var path = Path.Combine(_dir, "meta.gguf");
        LlamaGguf.Write(RandomModel(cfg), Vocab(cfg.VocabSize), path, GgmlType.F32, "tiny");
        var f = GgufFile.Open(path);
        Assert.Equal("llama", f.Get<string>("general.architecture"));
        Assert.Equal(48u, f.Get<uint>("llama.context_length"));
        Assert.Equal(16u, f.Get<uint>("llama.embedding_length"));
        Assert.Equal(2u, f.Get<uint>("llama.block_count"));
        Assert.Equal(24u, f.Get<uint>("llama.feed_forward_length"));
        Assert.Equal(4u, f.Get<uint>("llama.attention.head_count"));
        Assert.Equal(2u, f.Get<uint>("llama.attention.head_count_kv"));
        Assert.Equal(4u, f.Get<uint>("llama.rope.dimension_count"));
        Assert.Equal(500000f, f.Get<float>("llama.rope.freq_base"));
        Assert.Equal(1e-6f, f.Get<float>("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal(32u, f.Get<uint>("general.alignment"));
        string[] expected =
        [
            "token_embd.weight",
            .. Enumerable.Range(0, 2).SelectMany(i => new[] { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" }.Select(n => $"blk.{i}.{n}.weight")),
            "output_norm.weight", "output.weight",
        ];
        Assert.Equal(expected.Order(), f.Tensors.Select(t => t.Name).Order());
        Assert.Equal([8, 16], f.Tensor("blk.0.attn_k.weight").Shape); // 2 kv heads × 4, hidden 16
        var tok = GgufTokenizer.Read(f);
        Assert.Equal("gpt2", f.Get<string>("tokenizer.ggml.model"));
        Assert.Equal(Vocab(cfg.VocabSize).Tokens, tok.Tokens);
        Assert.Equal(2, tok.EosTokenId);
        Assert.Equal(0, tok.PadTokenId);
    }

    [Fact]
    public void Qwen2WithBiasIsWrittenUnpermutedUnderItsOwnArchitecture()
    {
        var cfg = TinyModels.Llama(qkvBias: true, type: "qwen2");
        var model = RandomModel(cfg);
        var path = Path.Combine(_dir, "q.gguf");
        LlamaGguf.Write(model, Vocab(cfg.VocabSize), path, GgmlType.F32, "tiny");
        var f = GgufFile.Open(path);
        Assert.Equal("qwen2", f.Get<string>("general.architecture"));
        Assert.Equal(model.Body.Blocks[0].Attn.QProj!.Weight.Value.ToArray(), f.ReadFloats("blk.0.attn_q.weight"));
        Assert.Equal(model.Body.Blocks[0].Attn.QProj!.Bias!.Value.ToArray(), f.ReadFloats("blk.0.attn_q.bias"));
    }

    [Fact]
    public void PermutationInterleavesEachHeadsHalves()
    {
        // One column, two heads of dim 4: rows [a0 a1 b0 b1] per head become [a0 b0 a1 b1].
        float[] rows = [0, 1, 2, 3, 10, 11, 12, 13];
        Assert.Equal([0, 2, 1, 3, 10, 12, 11, 13], LlamaGguf.PermuteForNormRope(rows, 8, 1, 2, 4));
        Assert.Equal(rows, LlamaGguf.UnpermuteFromNormRope(LlamaGguf.PermuteForNormRope(rows, 8, 1, 2, 4), 8, 1, 2, 4));
        var w = new Generator(3).Normal([12, 5], 0f, 1f).ToArray();
        Assert.Equal(w, LlamaGguf.UnpermuteFromNormRope(LlamaGguf.PermuteForNormRope(w, 12, 5, 2, 6), 12, 5, 2, 6));
    }

    [Fact]
    public void PermutedWeightsUnderAdjacentPairRopeEqualHfWeightsUnderHalfSplitRope()
    {
        // llama.cpp's "llama" graph rotates pairs (2i, 2i+1); HF rotates (i, i+D/2). With the
        // permuted weight, llama.cpp's rotated query is our rotated query with permuted rows, so
        // q·k dot products (attention) are the same.
        int heads = 2, d = 8, cols = 5, pos = 7;
        float theta = 10000f;
        var w = new Generator(11).Normal([heads * d, cols], 0f, 1f).ToArray();
        var x = new Generator(12).Normal([cols], 0f, 1f).ToArray();
        var hf = HalfSplitRope(MatVec(w, x, heads * d, cols), heads, d, pos, theta);
        var cpp = AdjacentPairRope(MatVec(LlamaGguf.PermuteForNormRope(w, heads * d, cols, heads, d), x, heads * d, cols), heads, d, pos, theta);
        var hfPermuted = LlamaGguf.PermuteForNormRope(hf, heads * d, 1, heads, d);
        for (int i = 0; i < hf.Length; i++)
            Assert.Equal(hfPermuted[i], cpp[i], 5);
    }

    private static float[] MatVec(float[] w, float[] x, int rows, int cols)
    {
        var y = new float[rows];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r] += w[(r * cols) + c] * x[c];
        return y;
    }

    private static float[] HalfSplitRope(float[] q, int heads, int d, int pos, float theta)
    {
        var y = (float[])q.Clone();
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < d / 2; i++)
            {
                double angle = pos * Math.Pow(theta, -2.0 * i / d);
                float a = q[(h * d) + i], b = q[(h * d) + i + (d / 2)];
                y[(h * d) + i] = (float)((a * Math.Cos(angle)) - (b * Math.Sin(angle)));
                y[(h * d) + i + (d / 2)] = (float)((b * Math.Cos(angle)) + (a * Math.Sin(angle)));
            }
        return y;
    }

    private static float[] AdjacentPairRope(float[] q, int heads, int d, int pos, float theta)
    {
        var y = (float[])q.Clone();
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < d / 2; i++)
            {
                double angle = pos * Math.Pow(theta, -2.0 * i / d);
                float a = q[(h * d) + (2 * i)], b = q[(h * d) + (2 * i) + 1];
                y[(h * d) + (2 * i)] = (float)((a * Math.Cos(angle)) - (b * Math.Sin(angle)));
                y[(h * d) + (2 * i) + 1] = (float)((b * Math.Cos(angle)) + (a * Math.Sin(angle)));
            }
        return y;
    }

    [Fact]
    public void UnsupportedModelsAreRefusedWithWhatIsSupported()
    {
        var path = Path.Combine(_dir, "no.gguf");
        var gpt2 = Assert.Throws<GgufExportException>(() => LlamaGguf.Write(new CausalLM(TinyModels.Gpt2()), Vocab(41), path, GgmlType.F32, "x"));
        Assert.Contains("model_type is 'gpt2'", gpt2.Message);
        Assert.Contains("llama, mistral or qwen2", gpt2.Message);
        var gelu = Assert.Throws<GgufExportException>(() => LlamaGguf.Write(new CausalLM(TinyModels.Llama() with { HiddenAct = "gelu" }), Vocab(37), path, GgmlType.F32, "x"));
        Assert.Contains("hidden_act 'silu'", gelu.Message);
        var vocab = Assert.Throws<GgufExportException>(() => LlamaGguf.Write(new CausalLM(TinyModels.Llama()), Vocab(30), path, GgmlType.F32, "x"));
        Assert.Contains("30 tokens but the model's vocab_size is 37", vocab.Message);
        Assert.IsAssignableFrom<IUserError>(vocab);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void MergedAdaptersAreWrittenAsTheirBaseWeights()
    {
        var model = RandomModel(TinyModels.Llama());
        Lora.PeftIO.Apply(model, new Lora.LoraConfig { Rank = 2, TargetModules = ["q_proj", "k_proj", "down_proj"] }, new Generator(2));
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is Modules.Linear { Lora: { } a })
            {
                a.B.Weight.Assign(new Generator(3).Normal(a.B.Weight.Shape, 0f, 0.5f));
                a.Merge();
            }
        }
        var path = Path.Combine(_dir, "merged.gguf");
        LlamaGguf.Write(model, Vocab(37), path, GgmlType.F32, "x");
        Assert.DoesNotContain(GgufFile.Open(path).Tensors, t => t.Name.Contains("lora", StringComparison.Ordinal));
        Assert.Equal(model.Forward(Ids).ToArray(), LlamaGguf.Load(path).Forward(Ids).ToArray());
    }

    [Fact]
    public void UnmergedAdaptersAreRefused()
    {
        var model = new CausalLM(TinyModels.Llama(), new Generator(1));
        Lora.PeftIO.Apply(model, new Lora.LoraConfig { Rank = 2 }, new Generator(2));
        var e = Assert.Throws<GgufExportException>(() => LlamaGguf.Write(model, Vocab(37), Path.Combine(_dir, "l.gguf"), GgmlType.F32, "x"));
        Assert.Contains("merge", e.Message);
    }
}
