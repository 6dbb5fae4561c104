using System.Text.Json.Nodes;
using RlhfSharp.Models.Gguf;
using RlhfSharp.Text;
using RlhfSharp.Training.Export;

namespace RlhfSharp.Cli.Tests;

/// <summary>Which llama.cpp pre-tokenizer a tokenizer's split regexes are, and the tokenizers GGUF export refuses.</summary>
[Collection(ExportCollection.Name)]
public sealed class GgufVocabularyTests(ExportFixture fx)
{
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The task's tokenizer with another pre-tokenizer (and normalizer).</summary>
    private BpeTokenizer With(JsonNode preTokenizer, JsonNode? normalizer = null)
    {
        var json = JsonNode.Parse(fx.Tokenizer.ToJson())!.AsObject();
        json["pre_tokenizer"] = preTokenizer;
        json["normalizer"] = normalizer;
        return BpeTokenizer.FromJson(json.ToJsonString());
    }

    private static JsonObject Split(string regex) => new()
    {
        ["type"] = "Split",
        ["pattern"] = new JsonObject { ["Regex"] = regex },
        ["behavior"] = "Isolated",
        ["invert"] = false,
    };

    private static JsonObject ByteLevel(bool useRegex, bool prefixSpace = false) => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = prefixSpace,
        ["trim_offsets"] = false,
        ["use_regex"] = useRegex,
    };

    private static JsonObject Sequence(params JsonNode[] steps) => new() { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(steps) };

    [Fact]
    public void TheTasksTokenizerIsSmolLmsDigitsThenGpt2()
    {
        Assert.Equal("smollm", GgufVocabulary.PreTokenizerName(fx.Tokenizer, "t"));
    }

    [Fact]
    public void KnownSplitsMapToTheirLlamaCppNames()
    {
        Assert.Equal("gpt-2", GgufVocabulary.PreTokenizerName(With(ByteLevel(useRegex: true)), "t"));
        Assert.Equal("qwen2", GgufVocabulary.PreTokenizerName(With(Sequence(Split(Qwen2Regex), ByteLevel(useRegex: false)), new JsonObject { ["type"] = "NFC" }), "t"));
        Assert.Equal("llama-bpe", GgufVocabulary.PreTokenizerName(With(Sequence(Split(Llama3Regex), ByteLevel(useRegex: false))), "t"));
    }

    [Fact]
    public void AnUnknownSplitIsRefusedListingWhatIsSupported()
    {
        var e = Assert.Throws<ExportException>(() => GgufVocabulary.PreTokenizerName(With(Sequence(Split(@"\p{N}{1,2}"), ByteLevel(useRegex: true))), "tok.json"));
        Assert.Contains("tok.json", e.Message);
        Assert.Contains(@"\p{N}{1,2}", e.Message);
        Assert.Contains("qwen2", e.Message);
        Assert.Contains("llama-bpe", e.Message);
        Assert.IsAssignableFrom<IUserError>(e);
    }

    [Fact]
    public void PrefixSpaceAndNormalizersThatChangeTextAreRefused()
    {
        var prefix = Assert.Throws<ExportException>(() => GgufVocabulary.PreTokenizerName(With(ByteLevel(useRegex: true, prefixSpace: true)), "t"));
        Assert.Contains("prefix space", prefix.Message);
        var lower = Assert.Throws<ExportException>(() => GgufVocabulary.PreTokenizerName(With(ByteLevel(useRegex: true), new JsonObject { ["type"] = "Lowercase" }), "t"));
        Assert.Contains("normalizer", lower.Message);
    }

    [Fact]
    public void TheVocabularyHasOneTokenPerEmbeddingRow()
    {
        int n = fx.Tokenizer.VocabSize;
        var v = GgufVocabulary.FromTokenizer(fx.Tokenizer, n + 3, "t");
        Assert.Equal(n + 3, v.Tokens.Count);
        Assert.Equal($"[PAD{n + 1}]", v.Tokens[n + 1]);
        Assert.Equal(GgufTokenType.Unused, v.TokenTypes[n]);
        Assert.Equal(GgufTokenType.Control, v.TokenTypes[fx.Tokenizer.TokenToId("<|im_start|>")!.Value]);
        Assert.Equal(GgufTokenType.Normal, v.TokenTypes[fx.Tokenizer.TokenToId("Ġ")!.Value]);
        Assert.Equal(fx.Tokenizer.Merges.Count, v.Merges.Count);
        var small = Assert.Throws<ExportException>(() => GgufVocabulary.FromTokenizer(fx.Tokenizer, n - 1, "t"));
        Assert.Contains($"vocab_size is {n - 1}", small.Message);
    }
}
