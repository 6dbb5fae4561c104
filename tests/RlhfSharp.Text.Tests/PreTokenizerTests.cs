using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text.Tests;

public class PreTokenizerTests
{
    [Theory]
    [InlineData(SplitBehavior.Isolated, new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData(SplitBehavior.Removed, new[] { "a", "b", "c" })]
    [InlineData(SplitBehavior.MergedWithPrevious, new[] { "a-", "b-", "-", "c" })]
    [InlineData(SplitBehavior.MergedWithNext, new[] { "a", "-b", "--c" })]
    [InlineData(SplitBehavior.Contiguous, new[] { "a", "-", "b", "--", "c" })]
    public void Split_behaviours_follow_tokenizers(SplitBehavior behavior, string[] expected)
    {
        var split = new SplitPreTokenizer("-", isRegex: false, behavior, invert: false);
        Assert.Equal(expected, split.Split("a-b--c"));
    }

    [Fact]
    public void Inverted_split_keeps_the_matches_as_the_content()
    {
        var split = new SplitPreTokenizer(@"\p{L}+", isRegex: true, SplitBehavior.Removed, invert: true);
        Assert.Equal(new[] { "ab", "cd" }, split.Split("ab, cd!"));
    }

    [Fact]
    public void Byte_level_prefix_space_and_gpt2_regex()
    {
        var pre = new ByteLevelPreTokenizer(addPrefixSpace: true, useRegex: true);
        Assert.Equal(new[] { " Hello", ",", " world", "'s", "  ", " 42" }, pre.Split("Hello, world's   42"));
        Assert.Equal(new[] { " x" }, new ByteLevelPreTokenizer(true, false).Split("x"));
        Assert.Equal(new[] { " x" }, new ByteLevelPreTokenizer(true, false).Split(" x"));
    }

    [Fact]
    public void Qwen_pattern_splits_like_the_reference()
    {
        var pieces = Fixtures.Qwen3.PreTokenize("I'M here\n\n  x 123 ??!\r\n");
        Assert.Equal(new[] { "I", "'M", " here", "\n\n", " ", " x", " ", "1", "2", "3", " ??!\r\n" }, pieces);
    }
}
