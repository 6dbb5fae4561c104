using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

/// <summary>Watching a generation token by token (streaming) and stopping rows whose caller went away.</summary>
public sealed class GenerationWatchTests
{
    private static (CausalLM Model, Tensor Ids, Tensor Mask) Setup()
    {
        var cfg = TinyModels.ByName("llama-gqa-untied");
        var g = new Generator(21);
        var model = new CausalLM(cfg, g);
        var ids = TransformerTests.RandomIds(g, 3, 5, cfg.VocabSize);
        var mask = Tensor.FromArray(new float[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1 }, 3, 5);
        return (model, ids, mask);
    }

    [Fact]
    public void OnTokenSeesEveryDrawnTokenAndChangesNone()
    {
        var (model, ids, mask) = Setup();
        var plain = new GenerationOptions { MaxNewTokens = 9, EosTokenIds = [model.Config.EosTokenId!.Value] };
        var seen = new List<SampledToken>();

        var a = Sampler.Generate(model, ids, mask, plain, new Generator(5));
        var b = Sampler.Generate(model, ids, mask, plain with { OnToken = seen.Add }, new Generator(5));

        Assert.Equal(a.Sequences.ToIntArray(), b.Sequences.ToIntArray());
        Assert.Equal(a.LogProbs.ToArray(), b.LogProbs.ToArray());
        int n = b.ResponseIds.Size(1);
        var response = b.ResponseIds.ToIntArray();
        for (int r = 0; r < 3; r++)
        {
            var row = seen.Where(t => t.Row == r).ToList();
            Assert.Equal(b.ResponseLengths[r], row.Count);
            Assert.Equal(Enumerable.Range(0, row.Count), row.Select(t => t.Step));
            Assert.Equal(response.AsSpan(r * n, row.Count).ToArray(), row.Select(t => t.Token));
            Assert.Equal(b.Ended[r], row.Count > 0 && row[^1].EndsRow);
            Assert.All(row.SkipLast(1), t => Assert.False(t.EndsRow));
        }
    }

    [Fact]
    public void AStoppedRowEndsThereAndTheOthersDrawTheSameGreedyTokens()
    {
        var (model, ids, mask) = Setup();
        var greedy = new GenerationOptions { MaxNewTokens = 8, DoSample = false };
        int drawnByRow1 = 0;
        var options = greedy with
        {
            OnToken = t => drawnByRow1 += t.Row == 1 ? 1 : 0,
            StopRow = r => r == 1 && drawnByRow1 >= 3,
        };

        var whole = Sampler.Generate(model, ids, mask, greedy, new Generator(1));
        var cut = Sampler.Generate(model, ids, mask, options, new Generator(1));

        Assert.Equal([false, true, false], cut.Stopped);
        Assert.Equal(3, cut.ResponseLengths[1]);
        Assert.False(cut.Ended[1]);
        Assert.Equal(Row(whole, 1)[..3], Row(cut, 1)[..3]);
        Assert.Equal(Row(whole, 0), Row(cut, 0));
        Assert.Equal(Row(whole, 2), Row(cut, 2));
        Assert.Equal(new bool[3], whole.Stopped);
    }

    [Fact]
    public void WhenEveryRowIsStoppedTheGenerationEndsAtOnce()
    {
        var (model, ids, mask) = Setup();
        int steps = 0;
        var options = new GenerationOptions
        {
            MaxNewTokens = 50,
            OnToken = t => steps = Math.Max(steps, t.Step + 1),
            StopRow = _ => steps >= 2,
        };

        var result = Sampler.Generate(model, ids, mask, options, new Generator(3));

        Assert.Equal(2, result.ResponseIds.Size(1));
        Assert.Equal([true, true, true], result.Stopped);
        Assert.Equal([2, 2, 2], result.ResponseLengths);
    }

    private static int[] Row(GenerationResult g, int r)
    {
        int n = g.ResponseIds.Size(1);
        return g.ResponseIds.ToIntArray().AsSpan(r * n, g.ResponseLengths[r]).ToArray();
    }
}
