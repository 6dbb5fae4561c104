using RlhfSharp.Text;

namespace RlhfSharp.Training.Tests;

/// <summary>A tiny tokenizer trained in memory, and JSONL files in a temporary folder.</summary>
internal static class DataTestSupport
{
    public const string Eos = "<|endoftext|>";
    public const string Pad = "<|pad|>";

    private static readonly Lazy<BpeTokenizer> Shared = new(Train);

    /// <summary>A byte-level BPE with the chatml and llama3 markers as special tokens, an EOS and a pad token.</summary>
    public static BpeTokenizer Tokenizer => Shared.Value;

    private static BpeTokenizer Train()
    {
        var corpus = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            corpus.Add("Human: what is the capital of France? Assistant: The capital of France is Paris.");
            corpus.Add("User: hello there, how are you today?\nAssistant: I am fine, thank you for asking.\n");
            corpus.Add("Write a short poem about the sea and the sky. The waves roll in and the gulls cry.");
        }
        return BpeTrainer.Train(corpus, new BpeTrainerOptions
        {
            VocabSize = 420,
            SpecialTokens = ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
            EosToken = Eos,
            PadToken = Pad,
        });
    }
}

/// <summary>A temporary folder that deletes itself; <see cref="Write"/> puts JSONL lines in a file there.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rlhfsharp-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, params string[] lines)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, string.Join("\n", lines) + "\n");
        return file;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, bytes);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
