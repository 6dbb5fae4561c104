using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using RlhfSharp.Models.Generation;
using RlhfSharp.Tensors;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// An implementation no one here wrote — llama.cpp, through LLamaSharp's CPU backend — loads the
/// GGUF that <c>rlhf export</c> writes, encodes text to our token ids, and greedily generates the
/// same tokens as our engine from the same prompt ids.
/// </summary>
[Collection(ExportCollection.Name)]
public sealed class LlamaCppTests(ExportFixture fx)
{
    private const int NewTokens = 12;

    private string Export(string dtype) => fx.Gguf(dtype);

    private static ModelParams Params(string path) => new(path) { ContextSize = 64, GpuLayerCount = 0, Threads = 1, BatchThreads = 1 };

    private int[] OurGreedy(int[] prompt)
    {
        var model = fx.Load();
        model.Eval();
        var ids = Tensor.FromArray(prompt, 1, prompt.Length);
        var mask = Tensor.Ones(1, prompt.Length);
        var r = Sampler.Generate(model, ids, mask, new GenerationOptions { MaxNewTokens = NewTokens, DoSample = false }, new Generator(0));
        return r.ResponseIds.ToIntArray();
    }

    [Fact]
    public void LlamaCppGeneratesOurGreedyTokens()
    {
        using var weights = LLamaWeights.LoadFromFile(Params(Export("f32")));
        using var ctx = weights.CreateContext(Params(Export("f32")));
        Assert.Equal(fx.Tokenizer.VocabSize, weights.Vocab.Count);
        var all = new List<int[]>();
        foreach (var p in ExportFixture.Prompts)
        {
            var prompt = fx.Tokenizer.Encode(p);
            var ours = OurGreedy(prompt);
            Assert.Equal(ours, LlamaCppGreedy.Generate(ctx, prompt, NewTokens));
            all.Add(ours);
        }
        // The continuations depend on the prompt, so a broken attention or RoPE would show.
        Assert.True(all.Select(a => string.Join(",", a)).Distinct().Count() > 1, "every prompt got the same continuation: " + string.Join(" | ", all.Select(a => fx.Tokenizer.Decode(a))));
        Assert.True(all.All(a => a.Distinct().Count() > 2), "a continuation is nearly one token repeated: " + string.Join(" | ", all.Select(a => fx.Tokenizer.Decode(a))));
    }

    [Theory]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void LlamaCppGeneratesFromHalfPrecisionFiles(string dtype)
    {
        // The weights are rounded, so our f32 model is not the reference here: llama.cpp's tokens
        // must equal our engine's on the same rounded weights, reloaded from the file.
        var path = Export(dtype);
        using var weights = LLamaWeights.LoadFromFile(Params(path));
        using var ctx = weights.CreateContext(Params(path));
        var rounded = Models.Gguf.LlamaGguf.Load(path);
        rounded.Eval();
        foreach (var p in ExportFixture.Prompts)
        {
            var prompt = fx.Tokenizer.Encode(p);
            var ids = Tensor.FromArray(prompt, 1, prompt.Length);
            var ours = Sampler.Generate(rounded, ids, Tensor.Ones(1, prompt.Length), new GenerationOptions { MaxNewTokens = NewTokens, DoSample = false }, new Generator(0)).ResponseIds.ToIntArray();
            Assert.Equal(ours, LlamaCppGreedy.Generate(ctx, prompt, NewTokens));
        }
    }

    [Theory]
    [InlineData("What is 46 + 96?")]
    [InlineData("Reverse the word rock.")]
    [InlineData("  two spaces, then\ttabs\t and\n\nnew lines\n")]
    [InlineData("Sort from smallest to largest: 1 9 6. 12345 x1y22")]
    [InlineData("naïve café ✓ 日本語 don't I'll")]
    [InlineData("<|im_start|>user\nIs 12 odd?<|im_end|>\n<|im_start|>assistant\n")]
    public void LlamaCppEncodesTextToOurIds(string text)
    {
        var path = Export("f32");
        using var weights = LLamaWeights.LoadFromFile(Params(path));
        var theirs = weights.Tokenize(text, add_bos: false, special: true, Encoding.UTF8).Select(t => (int)t).ToArray();
        Assert.Equal(fx.Tokenizer.Encode(text), theirs);
    }
}
