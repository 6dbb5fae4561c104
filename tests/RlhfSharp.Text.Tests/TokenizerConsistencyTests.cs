using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Tests;

/// <summary>Token ids that contradict each other, and text that is not valid Unicode, fail at load naming the place.</summary>
public sealed class TokenizerConsistencyTests : IDisposable
{
    private const string File = "my/tokenizer.json";

    private readonly string _dir = Directory.CreateTempSubdirectory("tokcheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TokenizerFormatException Fails(Action<JsonObject> change)
        => Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson(MiniTokenizerJson.Text(change), sourceName: File));

    [Fact]
    public void TwoVocabularyTokensWithOneIdAreRejected()
    {
        var e = Fails(r => r["model"]!["vocab"]!["abc"] = 256);
        Assert.Equal(File, e.File);
        Assert.Contains("id 256 is also the id of token \"ab\"", e.Message);
    }

    [Fact]
    public void TwoAddedTokensWithOneIdAreRejected()
    {
        var e = Fails(r => r["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 258, ["content"] = "<|other|>", ["special"] = true }));
        Assert.Equal("added_tokens[1].id", e.Location);
        Assert.Contains("\"<|end|>\"", e.Message);
    }

    [Fact]
    public void AnAddedTokenTakingAnotherTokensVocabularyIdIsRejected()
    {
        var e = Fails(r => r["added_tokens"]![0]!["id"] = 256);
        Assert.Equal("added_tokens[0].id", e.Location);
        Assert.Contains("\"ab\" in model.vocab", e.Message);
    }

    [Fact]
    public void AnAddedTokenRepeatingItsVocabularyEntryIsAccepted()
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text(r => r["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 257, ["content"] = "abc", ["special"] = false })));
        Assert.Equal(257, t.TokenToId("abc"));
    }

    [Fact]
    public void LoneSurrogateEscapeNamesLineAndField()
    {
        var json = MiniTokenizerJson.Text(r => r["added_tokens"]![0]!["content"] = "@@LONE@@").Replace("@@LONE@@", "\\ud800");
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson(json, sourceName: File));
        Assert.Equal("line 1, added_tokens[0].content", e.Location);
        Assert.Contains("\\ud800", e.Message);
    }

    [Fact]
    public void InvalidUtf8InATokenizerFileNamesTheLine()
    {
        var path = Path.Combine(_dir, "tokenizer.json");
        var bytes = Encoding.UTF8.GetBytes("{\n\"model\": \"x").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
        System.IO.File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromFile(path));
        Assert.Equal("line 2, byte 12", e.Location);
        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Fact]
    public void LoneSurrogateInTokenizerConfigIsAUserError()
    {
        var config = "{\"eos_token\": \"\\udc00\"}";
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson(MiniTokenizerJson.Text(), config, configSourceName: "my/tokenizer_config.json"));
        Assert.Equal("my/tokenizer_config.json", e.File);
        Assert.Contains("eos_token", e.Location);
    }
}
