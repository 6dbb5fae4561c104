using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Tests;

public sealed class TransformerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static Tensor RandomIds(Generator g, int b, int t, int vocab)
    {
        var ids = new int[b * t];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = g.NextInt(vocab);
        return Tensor.FromArray(ids, b, t);
    }

    internal static void AssertClose(float[] want, float[] got, float tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"{what}[{i}]: {want[i]} vs {got[i]}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void SaveAndReloadGivesTheSameLogits(string name)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(11);
        var model = new CausalLM(cfg, g);
        var ids = RandomIds(g, 2, 7, cfg.VocabSize);
        using var _ = GradMode.NoGrad();
        var want = model.Forward(ids).ToArray();

        var f32 = Path.Combine(_dir, "f32");
        PretrainedIO.Save(model, f32);
        var back = PretrainedIO.LoadCausalLM(f32);
        Assert.Equal(want, back.Forward(ids).ToArray());
        Assert.Equal(cfg.TieWordEmbeddings, !File.ReadAllText(Path.Combine(f32, "config.json")).Contains("\"tie_word_embeddings\": false"));

        // BF16 on disk: equal to the fp32 model whose weights were rounded to bf16.
        var bf16 = Path.Combine(_dir, "bf16");
        PretrainedIO.Save(model, bf16, SafeTensorsDType.BF16);
        var rounded = new CausalLM(cfg);
        rounded.LoadStateDict(model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToBFloat16().Float()));
        var roundedLogits = rounded.Forward(ids).ToArray();
        Assert.Equal(roundedLogits, PretrainedIO.LoadCausalLM(bf16).Forward(ids).ToArray());
        // ... and kept in bf16 storage it computes the same numbers.
        var bf16Stored = PretrainedIO.LoadCausalLM(bf16, bf16Storage: true);
        Assert.All(bf16Stored.NamedParameters(), p => Assert.Equal(DType.BFloat16, p.Param.Value.Dtype));
        AssertClose(roundedLogits, bf16Stored.Forward(ids).ToArray(), 1e-5f, "bf16 storage");
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void KvCacheDecodingMatchesFullForwardAtEveryStep(string name)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(5);
        var model = new CausalLM(cfg, g);
        var ids = RandomIds(g, 3, 9, cfg.VocabSize);
        // Left padding: row 1 has two pad tokens, row 2 one.
        var mask = Tensor.FromArray(new float[]
        {
            1, 1, 1, 1, 1, 1, 1, 1, 1,
            0, 0, 1, 1, 1, 1, 1, 1, 1,
            0, 1, 1, 1, 1, 1, 1, 1, 1,
        }, 3, 9);
        using var _ = GradMode.NoGrad();
        var full = model.Forward(ids, mask);                                   // [3, 9, V]
        var cache = model.NewCache(3, 9);
        int prompt = 4;
        var step = model.Forward(ids.Narrow(1, 0, prompt).Contiguous(), mask.Narrow(1, 0, prompt).Contiguous(), cache);
        AssertRealPositionsClose(full.Narrow(1, 0, prompt), step, mask.Narrow(1, 0, prompt), $"{name} prefill");
        for (int t = prompt; t < 9; t++)
        {
            step = model.Forward(ids.Narrow(1, t, 1).Contiguous(), mask.Narrow(1, 0, t + 1).Contiguous(), cache);
            AssertRealPositionsClose(full.Narrow(1, t, 1), step, mask.Narrow(1, t, 1), $"{name} step {t}");
        }
    }

    private static void AssertRealPositionsClose(Tensor want, Tensor got, Tensor mask, string what)
    {
        var w = want.ToArray();
        var gt = got.ToArray();
        var m = mask.ToArray();
        int v = want.Size(2);
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] == 0)
                continue;
            AssertClose(w[(i * v)..((i + 1) * v)], gt[(i * v)..((i + 1) * v)], 1e-4f, what);
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void LeftPaddingDoesNotChangeTheRealTokensLogits(string name)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(9);
        var model = new CausalLM(cfg, g);
        var ids = RandomIds(g, 1, 5, cfg.VocabSize);
        using var _ = GradMode.NoGrad();
        var alone = model.Forward(ids).ToArray();
        var padded = Tensor.Cat([Tensor.FromArray([0, 0, 0], 1, 3), ids], 1);
        var mask = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 1, 1, 1 }, 1, 8);
        var logits = model.Forward(padded, mask).Narrow(1, 3, 5).ToArray();
        AssertClose(alone, logits, 1e-4f, name);
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void GradientCheckpointingGivesTheSameGradients(string name)
    {
        var cfg = TinyModels.ByName(name);
        var ids = RandomIds(new Generator(3), 2, 6, cfg.VocabSize);
        float[][] Grads(bool checkpoint)
        {
            var model = new CausalLM(cfg, new Generator(21));
            model.Body.GradientCheckpointing = checkpoint;
            var logits = model.Forward(ids);
            F.CrossEntropy(logits.Narrow(1, 0, 5).Reshape(-1, cfg.VocabSize), ids.Narrow(1, 1, 5).Contiguous().Reshape(-1)).Backward();
            return model.NamedParameters().Select(p => p.Param.Value.Grad!.ToArray()).ToArray();
        }
        var plain = Grads(false);
        var ckpt = Grads(true);
        for (int i = 0; i < plain.Length; i++)
            Assert.Equal(plain[i], ckpt[i]);
    }

    [Fact]
    public void ScoreIsReadAtTheLastRealToken()
    {
        var cfg = TinyModels.Llama();
        var g = new Generator(2);
        var rm = new SequenceScorer(cfg, g);
        var ids = RandomIds(g, 2, 6, cfg.VocabSize);
        var mask = Tensor.FromArray(new float[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, 2, 6);
        using var _ = GradMode.NoGrad();
        var all = rm.ForwardAll(ids, mask);
        var scores = rm.Forward(ids, mask).ToArray();
        Assert.Equal(all[0, 3], scores[0]);
        Assert.Equal(all[1, 5], scores[1]);

        var dir = Path.Combine(_dir, "rm");
        PretrainedIO.Save(rm, dir);
        var config = File.ReadAllText(Path.Combine(dir, "config.json"));
        Assert.Contains("LlamaForSequenceClassification", config);
        Assert.Contains("\"num_labels\": 1", config);
        using (var st = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
            Assert.Equal([1, cfg.HiddenSize], st.Entry("score.weight").Shape);
        Assert.Equal(scores, PretrainedIO.LoadScorer(dir).Forward(ids, mask).ToArray());
    }

    [Fact]
    public void Gpt2CheckpointsWithConv1DLayoutAndNoPrefixLoad()
    {
        var cfg = TinyModels.Gpt2();
        var model = new CausalLM(cfg, new Generator(4));
        var dir = Path.Combine(_dir, "gpt2");
        PretrainedIO.Save(model, dir);
        using (var st = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            // HF GPT-2 keeps Conv1D weights as [in, out].
            Assert.Equal([cfg.HiddenSize, 3 * cfg.HiddenSize], st.Entry("transformer.h.0.attn.c_attn.weight").Shape);
            Assert.Equal([cfg.HiddenSize, cfg.IntermediateSize], st.Entry("transformer.h.0.mlp.c_fc.weight").Shape);
            Assert.False(st.Contains("lm_head.weight"));
            // Rewrite without the "transformer." prefix, as the original gpt2 checkpoint names its tensors.
            var renamed = st.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name["transformer.".Length..], st.Read(e.Name))).ToList();
            SafeTensorsWriter.Save(Path.Combine(dir, "renamed.safetensors"), renamed);
        }
        File.Move(Path.Combine(dir, "renamed.safetensors"), Path.Combine(dir, "model.safetensors"), overwrite: true);
        var ids = RandomIds(new Generator(1), 1, 5, cfg.VocabSize);
        using var _ = GradMode.NoGrad();
        Assert.Equal(model.Forward(ids).ToArray(), PretrainedIO.LoadCausalLM(dir).Forward(ids).ToArray());
    }

    [Fact]
    public void CheckpointMismatchesAreClearErrors()
    {
        var cfg = TinyModels.Llama();
        var model = new CausalLM(cfg, new Generator(4));
        var dir = Path.Combine(_dir, "m");
        PretrainedIO.Save(model, dir);
        var bigger = cfg with { HiddenSize = 24 };
        bigger.Save(Path.Combine(dir, "config.json"));
        var shape = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        Assert.Contains("model.embed_tokens.weight", shape.Message);
        Assert.Contains("[37, 16]", shape.Message);

        (cfg with { NumLayers = 3 }).Save(Path.Combine(dir, "config.json"));
        var missing = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        Assert.Contains("model.layers.2.", missing.Message);

        (cfg with { NumLayers = 1 }).Save(Path.Combine(dir, "config.json"));
        var extra = Assert.Throws<CheckpointMismatchException>(() => PretrainedIO.LoadCausalLM(dir));
        Assert.Contains("model.layers.1.", extra.Message);
    }
}
