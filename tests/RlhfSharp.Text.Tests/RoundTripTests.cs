using System.Text;
using RlhfSharp.Text.Normalization;

namespace RlhfSharp.Text.Tests;

public class RoundTripTests
{
    private static readonly Lazy<BpeTokenizer> Trained = new(() => BpeTrainer.Train(Corpus.Generate(1500),
        new BpeTrainerOptions { VocabSize = 800, SpecialTokens = ["<|endoftext|>"] }));

    public static TheoryData<string> TokenizerNames => new() { "gpt2", "qwen3", "trained" };

    private static BpeTokenizer ByName(string name) => name switch
    {
        "gpt2" => Fixtures.Gpt2,
        "qwen3" => Fixtures.Qwen3,
        _ => Trained.Value,
    };

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void Decode_inverts_encode_on_random_unicode(string name)
    {
        var tokenizer = ByName(name);
        foreach (var text in RandomText.Many(seed: 12345, count: 300))
        {
            // The pool has no combining sequences, so NFC leaves the text as it is.
            Assert.Equal(text, UnicodeNormalization.Normalize(text, NormalizationForm.FormC));
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void Qwen3_round_trips_to_the_nfc_form()
    {
        var tokenizer = Fixtures.Qwen3;
        string text = "cafe\u0301 A\u030A \u212B n\u0303o";
        string expected = "café Å Å ño";
        Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text)));
        Assert.Equal(tokenizer.Encode(expected), tokenizer.Encode(text));
    }

    [Fact]
    public void Supplementary_letters_are_letters_for_the_regex()
    {
        // "a𝐀b" is one \p{L}+ run for code-point regexes; UTF-16-unit matching would split it three ways.
        var pieces = Fixtures.Gpt2.PreTokenize("a\U0001D400b 😀x");
        Assert.Equal(new[] { "a\U0001D400b", " 😀", "x" }, pieces);
        var qwenPieces = Fixtures.Qwen3.PreTokenize("😀abc 1");
        Assert.Equal(new[] { "😀abc", " ", "1" }, qwenPieces);
    }
}
