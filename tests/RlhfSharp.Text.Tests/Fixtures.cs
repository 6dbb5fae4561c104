using System.Text.Json;

namespace RlhfSharp.Text.Tests;

/// <summary>Loads the tokenizer fixtures copied next to the test assembly, once per test run.</summary>
internal static class Fixtures
{
    private static readonly Lazy<BpeTokenizer> LazyGpt2 = new(() =>
        BpeTokenizer.FromGpt2Files(PathOf("gpt2", "encoder.json"), PathOf("gpt2", "vocab.bpe")));

    private static readonly Lazy<BpeTokenizer> LazyQwen3 = new(() =>
        BpeTokenizer.FromFile(PathOf("qwen3", "tokenizer.json")));

    public static BpeTokenizer Gpt2 => LazyGpt2.Value;

    public static BpeTokenizer Qwen3 => LazyQwen3.Value;

    public static string PathOf(params string[] parts)
        => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public sealed record ExpectedCase(string Text, int[] Gpt2, int[] Qwen3);

    public static IReadOnlyList<ExpectedCase> Expected { get; } = LoadExpected();

    private static List<ExpectedCase> LoadExpected()
    {
        var list = new List<ExpectedCase>();
        foreach (var line in File.ReadAllLines(PathOf("expected.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            list.Add(new ExpectedCase(
                r.GetProperty("text").GetString()!,
                [.. r.GetProperty("gpt2").EnumerateArray().Select(e => e.GetInt32())],
                [.. r.GetProperty("qwen3").EnumerateArray().Select(e => e.GetInt32())]));
        }
        return list;
    }

    public static TheoryData<int> ExpectedIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Expected.Count; i++) data.Add(i);
        return data;
    }
}
