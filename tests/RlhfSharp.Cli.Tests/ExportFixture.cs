using RlhfSharp.Models.Transformer;
using RlhfSharp.Text;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// The built-in task's data and a tiny Llama-family model SFT-trained on it for long enough that
/// its greedy answers depend on the prompt (not one token repeated): what the export tests export.
/// </summary>
public sealed class ExportFixture : IDisposable
{
    public ExportFixture()
    {
        Data = Path.Combine(Dir, "data");
        Check(Run("data", "builtin", "--out", Data, "--train_prompts", "200", "--eval_prompts", "8", "--preference_pairs", "8", "--vocab_size", "300"));
        Check(Run("sft", "--data", Data, "--out", Path.Combine(Dir, "sft"), "--max_steps", "500", "--warmup_steps", "10", "--learning_rate", "3e-3", "--eval_prompts", "0", "--batch_size", "8",
            "--model_init.hidden_size", "48", "--model_init.num_layers", "2", "--model_init.num_heads", "4", "--model_init.num_kv_heads", "2", "--model_init.intermediate_size", "96"));
        Tokenizer = BpeTokenizer.FromDirectory(Model);
    }

    public string Dir { get; } = Directory.CreateTempSubdirectory("export-").FullName;

    public string Data { get; }

    /// <summary>The SFT model folder (config.json, model.safetensors, tokenizer files).</summary>
    public string Model => Path.Combine(Dir, "sft", "model");

    public BpeTokenizer Tokenizer { get; }

    public CausalLM Load() => PretrainedIO.LoadCausalLM(Model);

    /// <summary>
    /// Prompts for greedy decoding: the task's questions as the SFT model saw them (ChatML up to
    /// the assistant's turn), and text cut off mid-turn, whose continuation must look back at it.
    /// </summary>
    public static IReadOnlyList<string> Prompts { get; } =
    [
        Chat("What is 3 * 3?"),
        Chat("Reverse the word dog."),
        Chat("Which is larger, 30 or 21?"),
        Chat("Is 12 odd?"),
        "<|im_start|>user\nSort from smallest to largest: 8 2 5.<|im_end|>\n<|im_start|>assistant\n2",
        "<|im_start|>user\nHow many letters are in the word",
        "<|im_start|>user\nWhich is larger, 10 or",
    ];

    public static string Chat(string prompt) => $"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n";

    /// <summary>A fresh folder path under the fixture's folder (not created).</summary>
    public string NewPath(string name) => Path.Combine(Dir, $"{name}-{Guid.NewGuid():N}");

    private readonly Dictionary<string, string> _gguf = [];

    /// <summary>The model exported by the real <c>rlhf export --format gguf --dtype DTYPE</c> (once per dtype).</summary>
    public string Gguf(string dtype)
    {
        lock (_gguf)
        {
            if (!_gguf.TryGetValue(dtype, out var path))
            {
                var outDir = NewPath("gguf-" + dtype);
                var r = RlhfProcess.Run("export", "--model", Model, "--out", outDir, "--format", "gguf", "--dtype", dtype);
                Assert.True(r.Code == 0, r.Err);
                path = Path.Combine(outDir, "model.gguf");
                _gguf[dtype] = path;
            }
            return path;
        }
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    private static void Check((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, r.Err);
}

/// <summary>The export tests share one trained model.</summary>
[CollectionDefinition(Name)]
public sealed class ExportCollection : ICollectionFixture<ExportFixture>
{
    public const string Name = "export";
}
