namespace RlhfSharp.Text.Tests;

/// <summary>Text given out token by token (streaming) joins to the whole decode, cut at a stop string.</summary>
public sealed class IncrementalDecoderTests
{
    private static (List<string> Pieces, string Joined) Stream(BpeTokenizer tokenizer, int[] ids, params string[] stop)
    {
        var decoder = new IncrementalDecoder(tokenizer, stop);
        var pieces = ids.Select(decoder.Push).ToList();
        pieces.Add(decoder.Finish());
        return (pieces, string.Concat(pieces));
    }

    [Theory]
    [InlineData("naïve café ☕ and 😀 emoji, 日本語のテキスト")]
    [InlineData("Hello, world!")]
    [InlineData("")]
    public void PiecesJoinToTheWholeDecodeAndNeverHoldHalfACharacter(string text)
    {
        foreach (var tokenizer in new[] { Fixtures.Gpt2, Fixtures.Qwen3 })
        {
            var ids = tokenizer.Encode(text);

            var (pieces, joined) = Stream(tokenizer, ids);

            Assert.Equal(tokenizer.Decode(ids), joined);
            Assert.Equal(text, joined);
            Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        }
        // GPT-2 spells the emoji in several byte tokens: some pushes give nothing until it is whole.
        var split = Fixtures.Gpt2.Encode("😀");
        Assert.True(split.Length > 1);
        Assert.Equal("", new IncrementalDecoder(Fixtures.Gpt2).Push(split[0]));
    }

    [Fact]
    public void AStopStringCutsTheTextAndLaterTokensAddNothing()
    {
        var tokenizer = Fixtures.Gpt2;
        var ids = tokenizer.Encode("Hello, world! Goodbye, world!");

        var decoder = new IncrementalDecoder(tokenizer, ["orld", "bye"]);
        var pieces = ids.Select(decoder.Push).ToList();

        Assert.Equal("Hello, w", string.Concat(pieces) + decoder.Finish());
        Assert.True(decoder.Stopped);
    }

    [Fact]
    public void TheStartOfAStopStringIsHeldBackUntilItCannotBeOne()
    {
        var tokenizer = Fixtures.Gpt2;
        var ids = tokenizer.Encode("one two three");
        var decoder = new IncrementalDecoder(tokenizer, [" two four"]);

        var pieces = ids.Select(decoder.Push).ToList();

        // After " two" the text could still become the stop string; " three" settles it.
        Assert.Equal(["one", "", " two three"], pieces);
        Assert.Equal("", decoder.Finish());
        Assert.False(decoder.Stopped);
    }

    [Fact]
    public void HeldBackTextComesOutAtTheEnd()
    {
        var tokenizer = Fixtures.Gpt2;
        var ids = tokenizer.Encode("ends with a partial sto");

        var (_, joined) = Stream(tokenizer, ids, " stop");

        Assert.Equal("ends with a partial sto", joined);
    }
}
