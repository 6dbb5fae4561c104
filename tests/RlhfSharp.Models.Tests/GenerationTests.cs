using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Tests;

public sealed class GenerationTests
{
    private static (CausalLM Model, Tensor Ids, Tensor Mask) Setup(string name, ulong seed = 13)
    {
        var cfg = TinyModels.ByName(name);
        var g = new Generator(seed);
        var model = new CausalLM(cfg, g);
        var ids = TransformerTests.RandomIds(g, 3, 5, cfg.VocabSize);
        var mask = Tensor.FromArray(new float[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1 }, 3, 5);
        return (model, ids, mask);
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void SampledLogProbsEqualTeacherForcedLogProbs(string name)
    {
        var (model, ids, mask) = Setup(name);
        foreach (var temperature in new[] { 1f, 0.7f })
        {
            var opts = new GenerationOptions { MaxNewTokens = 8, Temperature = temperature, EosTokenIds = [model.Config.EosTokenId!.Value] };
            var result = Sampler.Generate(model, ids, mask, opts, new Generator(99));
            using var _ = GradMode.NoGrad();
            var tf = TeacherForcing.ResponseLogProbs(model, result.Sequences, result.AttentionMask, result.PromptLength, result.ResponseMask, temperature);
            TransformerTests.AssertClose(result.LogProbs.ToArray(), tf.ToArray(), 1e-4f, $"{name} T={temperature}");
            Assert.All(result.LogProbs.ToArray(), lp => Assert.True(lp <= 0));
        }
    }

    [Fact]
    public void GreedyIsDeterministicAndPicksTheArgMax()
    {
        var (model, ids, mask) = Setup("llama-gqa-untied");
        var opts = new GenerationOptions { MaxNewTokens = 6, DoSample = false };
        var a = Sampler.Generate(model, ids, mask, opts, new Generator(1));
        var b = Sampler.Generate(model, ids, mask, opts, new Generator(2));
        Assert.Equal(a.ResponseIds.ToIntArray(), b.ResponseIds.ToIntArray());
        using var _ = GradMode.NoGrad();
        var logits = model.Forward(a.Sequences, a.AttentionMask);
        var first = logits.Select(1, a.PromptLength - 1).Max(-1).Indices.ToIntArray();
        Assert.Equal(first, a.ResponseIds.Narrow(1, 0, 1).Contiguous().Reshape(-1).ToIntArray());
    }

    [Fact]
    public void SameSeedSameSamples()
    {
        var (model, ids, mask) = Setup("gpt2");
        var opts = new GenerationOptions { MaxNewTokens = 10 };
        var a = Sampler.Generate(model, ids, mask, opts, new Generator(7));
        var b = Sampler.Generate(model, ids, mask, opts, new Generator(7));
        Assert.Equal(a.Sequences.ToIntArray(), b.Sequences.ToIntArray());
        Assert.Equal(a.LogProbs.ToArray(), b.LogProbs.ToArray());
    }

    [Fact]
    public void StopsOnEosAndPadsAfterIt()
    {
        var (model, ids, mask) = Setup("llama-gqa-tied");
        // Make EOS the arg-max everywhere by boosting its embedding row's logit: greedy then ends at once.
        var eos = 2;
        var opts = new GenerationOptions { MaxNewTokens = 5, DoSample = false, EosTokenIds = [eos], PadTokenId = 0 };
        var free = Sampler.Generate(model, ids, mask, opts, new Generator(1));
        int firstToken = free.ResponseIds.ToIntArray()[0];
        var stopAtFirst = opts with { EosTokenIds = [firstToken] };
        var r = Sampler.Generate(model, ids, mask, stopAtFirst, new Generator(1));
        Assert.True(r.Ended[0]);
        Assert.Equal(1, r.ResponseLengths[0]);
        var resp = r.ResponseIds.ToIntArray();
        var rmask = r.ResponseMask.ToArray();
        int n = r.ResponseIds.Size(1);
        for (int j = 1; j < n; j++)
        {
            Assert.Equal(0, resp[j]);
            Assert.Equal(0f, rmask[j]);
        }
    }

    [Fact]
    public void StopStringsEndARow()
    {
        var (model, ids, mask) = Setup("gpt2");
        var opts = new GenerationOptions { MaxNewTokens = 8, DoSample = false };
        var free = Sampler.Generate(model, ids, mask, opts, new Generator(1));
        var row0 = free.ResponseIds.ToIntArray()[..8];
        string Decode(IReadOnlyList<int> t) => string.Join(" ", t);
        var stop = Decode(row0[..3]);
        var r = Sampler.Generate(model, ids, mask, opts with { StopStrings = [stop], Decode = Decode }, new Generator(1));
        Assert.True(r.Ended[0]);
        Assert.Equal(3, r.ResponseLengths[0]);
    }

    [Fact]
    public void TopKOneIsGreedy()
    {
        var (model, ids, mask) = Setup("qwen2-bias");
        var greedy = Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 6, DoSample = false }, new Generator(1));
        var topk = Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 6, TopK = 1 }, new Generator(5));
        Assert.Equal(greedy.ResponseIds.ToIntArray(), topk.ResponseIds.ToIntArray());
        var topp = Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 6, TopP = 1e-6f }, new Generator(6));
        Assert.Equal(greedy.ResponseIds.ToIntArray(), topp.ResponseIds.ToIntArray());
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var (model, ids, mask) = Setup("gpt2");
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, ids, mask, new GenerationOptions { Temperature = 0 }, new Generator(1)));
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, ids, mask, new GenerationOptions { TopP = 0 }, new Generator(1)));
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, ids, mask, new GenerationOptions { StopStrings = ["x"] }, new Generator(1)));
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = 100 }, new Generator(1)));
    }

    [Fact]
    public void WithARowGeneratorEachRowDrawsTheSameWhateverItsBatch()
    {
        // Data-parallel ranks answer a share of the prompts each: a row must not depend on its companions.
        var (model, ids, mask) = Setup("llama-gqa-untied");
        var opts = new GenerationOptions { MaxNewTokens = 8, Temperature = 0.9f, TopK = 20 };
        var whole = Sampler.Generate(model, ids, mask, opts, [Generator.Stream(5, 0), Generator.Stream(5, 1), Generator.Stream(5, 2)]);
        var rows = Tensor.FromArray([1, 2], 2);
        var part = Sampler.Generate(model, ids.IndexSelect(0, rows), mask.IndexSelect(0, rows), opts, [Generator.Stream(5, 1), Generator.Stream(5, 2)]);
        Assert.Equal(whole.ResponseIds.Narrow(0, 1, 2).ToIntArray(), part.ResponseIds.ToIntArray());
        Assert.Equal(whole.ResponseLengths.Skip(1), part.ResponseLengths);
        // One generator per row, no more and no fewer.
        Assert.Throws<ArgumentException>(() => Sampler.Generate(model, ids, mask, opts, [Generator.Stream(5, 0)]));
    }
}
