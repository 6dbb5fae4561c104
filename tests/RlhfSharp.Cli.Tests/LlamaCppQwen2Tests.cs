using System.Text;
using System.Text.Json.Nodes;
using LLama;
using LLama.Common;
using LLama.Native;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Normalization;
using RlhfSharp.Training.Export;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// A Qwen2 model (q/k/v biases, tied embeddings, GQA) with the real Qwen3 tokenizer, exported to
/// GGUF's "qwen2" architecture: llama.cpp encodes the reference strings to the ids an independent
/// tokenizer gave, and generates our greedy tokens.
/// </summary>
public sealed class LlamaCppQwen2Tests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private readonly string _dir = Directory.CreateTempSubdirectory("qwen2-gguf-").FullName;
    private readonly BpeTokenizer _tokenizer = BpeTokenizer.FromDirectory(Path.Combine(Fixtures, "qwen3"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (CausalLM Model, string Gguf) Export()
    {
        var cfg = new ModelConfig
        {
            ModelType = "qwen2",
            VocabSize = _tokenizer.VocabSize,
            HiddenSize = 16,
            NumLayers = 2,
            NumHeads = 4,
            NumKeyValueHeads = 2,
            IntermediateSize = 32,
            MaxPositions = 64,
            RopeTheta = 1000000f,
            TieWordEmbeddings = true,
            AttentionBias = true,
        };
        var model = new CausalLM(cfg, new Generator(1));
        // Weights far from zero, so logits are spread and greedy choices are not near-ties.
        var rng = new Generator(2);
        foreach (var (_, p) in model.NamedParameters())
            p.Assign(rng.Normal(p.Shape, p.Shape.Length == 1 ? 1f : 0f, 0.4f));
        var folder = Path.Combine(_dir, "model");
        PretrainedIO.Save(model, folder);
        foreach (var f in Directory.GetFiles(Path.Combine(Fixtures, "qwen3")))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var outDir = Path.Combine(_dir, "gguf");
        ModelExporter.Export(new ExportOptions { Model = folder, Out = outDir, Format = ExportFormat.Gguf });
        model.Eval();
        return (model, Path.Combine(outDir, ModelExporter.GgufFileName));
    }

    // Our NFC (string.Normalize is not available under invariant globalization).
    private static readonly UnicodeFormNormalizer Nfc = new(NormalizationForm.FormC);

    private static int[] Tokenize(LLamaWeights weights, string text) =>
        [.. weights.Tokenize(text, add_bos: false, special: true, Encoding.UTF8).Select(t => (int)t)];

    [Fact]
    public void LlamaCppTokenizesAndGeneratesAsWeDo()
    {
        var (model, path) = Export();
        var p = new ModelParams(path) { ContextSize = 64, GpuLayerCount = 0, Threads = 1, BatchThreads = 1 };
        using var weights = LLamaWeights.LoadFromFile(p);
        Assert.Equal("qwen2", weights.Metadata["general.architecture"]);
        Assert.Equal("qwen2", weights.Metadata["tokenizer.ggml.pre"]);

        // llama.cpp applies no normalizer, so the tokenizer's NFC step is the caller's: text that NFC
        // changes is encoded otherwise unless it is normalised first (and is then encoded as the reference says).
        var mismatches = new List<string>();
        int changedByNfc = 0;
        foreach (var line in File.ReadLines(Path.Combine(Fixtures, "random_reference.jsonl")))
        {
            var o = JsonNode.Parse(line)!.AsObject();
            var text = o["text"]!.GetValue<string>();
            var expected = o["qwen3"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            var nfc = Nfc.Normalize(text);
            if (nfc != text)
            {
                changedByNfc++;
                Assert.NotEqual(expected, Tokenize(weights, text));
            }
            var theirs = Tokenize(weights, nfc);
            if (!theirs.SequenceEqual(expected))
                mismatches.Add($"{JsonValue.Create(text).ToJsonString()}: llama.cpp [{string.Join(",", theirs)}], reference [{string.Join(",", expected)}]");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} strings:\n" + string.Join("\n", mismatches.Take(10)));
        Assert.True(changedByNfc > 0, "no reference string is changed by NFC, so the check above saw none");

        using var ctx = weights.CreateContext(p);
        foreach (var text in new[] { "<|im_start|>user\nHello, world!<|im_end|>\n<|im_start|>assistant\n", "The quick brown fox", "数字 12345 и текст" })
        {
            var prompt = _tokenizer.Encode(text);
            var ours = Sampler.Generate(model, Tensor.FromArray(prompt, 1, prompt.Length), Tensor.Ones(1, prompt.Length),
                new GenerationOptions { MaxNewTokens = 8, DoSample = false }, new Generator(0)).ResponseIds.ToIntArray();
            Assert.Equal(ours, LlamaCppGreedy.Generate(ctx, prompt, 8));
        }
    }
}
