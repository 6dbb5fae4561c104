using System.Text.Json.Nodes;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text.Tests;

/// <summary>
/// A pre-tokenizer regex from a user's tokenizer.json runs under a time limit: a pattern that
/// backtracks catastrophically ends in a typed error that names the file and the pattern, instead
/// of running for as long as it likes; a pattern that does not compile fails at load.
/// </summary>
public class RegexTimeoutTests
{
    private const string File = "my/tokenizer.json";
    private const string Catastrophic = "(a+)+$";
    private const string Location = "pre_tokenizer.pretokenizers[0].pattern.Regex";

    // 2^40 ways to split the a's before the b: far beyond any limit, but instant for a sane pattern.
    private static readonly string Evil = new string('a', 40) + "b";

    private static string WithSplit(string pattern) => MiniTokenizerJson.Text(r => r["pre_tokenizer"] = new JsonObject
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated" },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
    });

    [Fact]
    public void A_catastrophic_pattern_stops_with_an_error_naming_file_and_pattern()
    {
        var tokenizer = BpeTokenizer.FromJson(WithSplit(Catastrophic), sourceName: File);

        var e = Assert.ThrowsAny<Exception>(() => tokenizer.Encode(Evil));

        Assert.IsAssignableFrom<IUserError>(e);
        Assert.StartsWith($"{File}: {Location}: the regex \"{Catastrophic}\" ran longer than", e.Message);
        Assert.Contains(TokenizerLoadOptions.RegexTimeoutVariable, e.Message);
    }

    [Fact]
    public void The_limit_comes_from_the_load_options()
    {
        var options = new TokenizerLoadOptions { RegexTimeout = TimeSpan.FromMilliseconds(50) };
        var tokenizer = BpeTokenizer.FromJson(WithSplit(Catastrophic), sourceName: File, options: options);

        var e = Assert.Throws<TokenizerRegexTimeoutException>(() => tokenizer.Encode(Evil));

        Assert.Equal(File, e.File);
        Assert.Equal(Location, e.Location);
        Assert.Equal(Catastrophic, e.Pattern);
        Assert.Equal(TimeSpan.FromMilliseconds(50), e.Timeout);
        Assert.Contains("0.05 s", e.Message);
        // The same tokenizer still encodes text the pattern handles.
        Assert.Equal("xyz", tokenizer.Decode(tokenizer.Encode("xyz")));
    }

    [Fact]
    public void A_file_tokenizer_gets_the_limit_and_the_default_is_two_seconds()
    {
        var split = (SplitPreTokenizer)((SequencePreTokenizer)Fixtures.Qwen3.PreTokenizer).Steps[0];
        Assert.Equal(TokenizerLoadOptions.ParseRegexTimeout(Environment.GetEnvironmentVariable(TokenizerLoadOptions.RegexTimeoutVariable)), split.MatchTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), TokenizerLoadOptions.ParseRegexTimeout(null));
        Assert.Equal(TimeSpan.FromSeconds(2), TokenizerLoadOptions.ParseRegexTimeout(" "));
        Assert.Equal(TimeSpan.FromSeconds(0.5), TokenizerLoadOptions.ParseRegexTimeout("0.5"));

        var loaded = BpeTokenizer.FromJson(WithSplit("a+"), options: new() { RegexTimeout = TimeSpan.FromSeconds(9) });
        Assert.Equal(TimeSpan.FromSeconds(9), ((SplitPreTokenizer)((SequencePreTokenizer)loaded.PreTokenizer).Steps[0]).MatchTimeout);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-3")]
    public void A_bad_limit_in_the_environment_is_named(string value)
    {
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerLoadOptions.ParseRegexTimeout(value));
        Assert.Contains(TokenizerLoadOptions.RegexTimeoutVariable, e.Message);
        Assert.Contains($"\"{value}\"", e.Message);
        Assert.Contains("positive number of seconds", e.Message);
    }

    [Fact]
    public void A_pattern_that_does_not_compile_fails_at_load_naming_file_and_pattern()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson(WithSplit("(a+"), sourceName: File));

        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Equal(File, e.File);
        Assert.Equal(Location, e.Location);
        Assert.Contains("the regex \"(a+\" does not compile", e.Message);
        Assert.Contains("fix the pattern", e.Message);
    }

    [Fact]
    public void Long_ordinary_text_encodes_within_the_limit()
    {
        // Long runs the Qwen3 pattern's \s*[\r\n]+ branch must rescan at every position.
        string text = new string(' ', 3_000) + "x" + new string('\n', 3_000) + string.Concat(Enumerable.Repeat("word ", 1_000));
        var tokenizer = Fixtures.Qwen3;
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }
}
