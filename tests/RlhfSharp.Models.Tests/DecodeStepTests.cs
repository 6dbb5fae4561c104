using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Tests;

/// <summary>The CPU single-token decoder against the general forward with a KV cache, and greedy decoding against a cache-free forward.</summary>
public sealed class DecodeStepTests
{
    public static IEnumerable<object[]> ModelsAndBatches() =>
        from m in TinyModels.All()
        from b in new[] { 1, 3, 8 }
        from packed in new[] { true, false }
        select new object[] { m[0], b, packed };

    [Theory]
    [MemberData(nameof(ModelsAndBatches))]
    public void DecodeStepMatchesTheGeneralForwardWithACache(string name, int b, bool packed)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(21);
        var model = Sharpened(new CausalLM(cfg, g), g);
        int p = 5, steps = 6, total = p + steps;
        var prompt = TransformerTests.RandomIds(g, b, p, cfg.VocabSize);
        // Row r is left padded by r % 3 positions; row 1 (when there is one) ends after two steps,
        // so from then on its new tokens are padding (mask 0), as the sampler feeds them.
        var mask = new float[b * total];
        for (int r = 0; r < b; r++)
        {
            for (int j = 0; j < total; j++)
                mask[(r * total) + j] = j < p ? (j >= r % 3 ? 1f : 0f) : (r == 1 && j >= p + 2 ? 0f : 1f);
        }
        var promptMask = Tensor.FromArray(mask, b, total).Narrow(1, 0, p).Contiguous();
        using var _ = GradMode.NoGrad();
        var general = model.NewCache(b, total);
        var fast = model.NewCache(b, total);
        model.Forward(prompt, promptMask, general);
        model.Forward(prompt, promptMask, fast);
        var decoder = DecodeStep.TryCreate(model, fast, packed ? DecodeStep.DefaultPackBudget : 0);
        Assert.NotNull(decoder);
        Assert.Equal(packed, decoder.Packed);
        for (int s = 0; s < steps; s++)
        {
            var ids = TransformerTests.RandomIds(g, b, 1, cfg.VocabSize);
            int len = p + s + 1;
            var want = model.Forward(ids, Tensor.FromArray(mask, b, total).Narrow(1, 0, len).Contiguous(), general).ToArray(); // [B, 1, V]
            decoder.Run(ids.ToIntArray(), mask, total);
            Assert.Equal(general.Length, fast.Length);
            int v = cfg.VocabSize;
            for (int r = 0; r < b; r++)
            {
                if (mask[(r * total) + len - 1] == 0f)
                    continue; // an ended row's logits are never read
                TransformerTests.AssertClose(want[(r * v)..((r + 1) * v)], decoder.Logits[(r * v)..((r + 1) * v)], 1e-4f, $"{name} b={b} step {s} row {r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void GreedyWithTheCachePicksTheArgMaxOfAFullForwardAtEveryStep(string name)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(31);
        var model = Sharpened(new CausalLM(cfg, g), g);
        var ids = TransformerTests.RandomIds(g, 3, 5, cfg.VocabSize);
        var mask = Tensor.FromArray(new float[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1 }, 3, 5);
        var result = Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 7, DoSample = false }, new Generator(1));
        using var _ = GradMode.NoGrad();
        var logits = model.Forward(result.Sequences, result.AttentionMask);     // no cache: [B, P+N, V]
        int n = result.ResponseIds.Size(1);
        Assert.Equal(7, n);
        var chosen = result.ResponseIds.ToIntArray();
        for (int t = 0; t < n; t++)
        {
            var argmax = logits.Select(1, result.PromptLength - 1 + t).Max(-1).Indices.ToIntArray();
            for (int r = 0; r < 3; r++)
                Assert.Equal(argmax[r], chosen[(r * n) + t]);
        }
    }

    // Weights drawn wider than GPT-2's init (std 0.02), so attention is far from uniform and a
    // mistake in a position, a mask or a head shows in the logits.
    private static CausalLM Sharpened(CausalLM model, Generator g)
    {
        foreach (var (_, p) in model.NamedParameters())
            p.Assign(g.Normal(p.Shape, 0f, 0.4f));
        return model;
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void APackingKeptBetweenCallsFollowsWeightsChangedInBetween(string name)
    {
        var g = new Generator(41);
        var model = Sharpened(new CausalLM(TinyModels.ByName(name), g), g);
        var ids = TransformerTests.RandomIds(g, 3, 4, model.Config.VocabSize);
        var mask = Tensor.Ones(3, 4);
        var opts = new GenerationOptions { MaxNewTokens = 6 };
        Sampler.Generate(model, ids, mask, opts, new Generator(1));
        Sharpened(model, g);                                                    // as a training step would
        var result = Sampler.Generate(model, ids, mask, opts, new Generator(2));
        using var _ = GradMode.NoGrad();
        var tf = TeacherForcing.ResponseLogProbs(model, result.Sequences, result.AttentionMask, result.PromptLength, result.ResponseMask, 1f);
        TransformerTests.AssertClose(tf.ToArray(), result.LogProbs.ToArray(), 1e-4f, name);
    }

    [Fact]
    public void AnActiveLoraAdapterKeepsTheGeneralForward()
    {
        var model = new CausalLM(TinyModels.Llama(), new Generator(3));
        var cache = model.NewCache(2, 8);
        Assert.NotNull(DecodeStep.TryCreate(model, cache));
        var q = model.Body.Blocks.Items[0].Attn.QProj!;
        var lora = q.AttachLora(2, 4f, 0f, new Generator(4));
        Assert.Null(DecodeStep.TryCreate(model, cache));
        lora.Enabled = false;
        Assert.NotNull(DecodeStep.TryCreate(model, cache));
    }
}
