using System.Text;
using System.Text.Json;
using RlhfSharp.Text.Normalization;

namespace RlhfSharp.Text.Tests;

public class NormalizationTests
{
    [Theory]
    [InlineData("e\u0301", "\u00E9", "e\u0301", "\u00E9", "e\u0301")]
    [InlineData("\u212B", "\u00C5", "A\u030A", "\u00C5", "A\u030A")]
    [InlineData("\uFB01", "\uFB01", "\uFB01", "fi", "fi")]
    [InlineData("a\u0307\u0323", "\u1EA1\u0307", "a\u0323\u0307", "\u1EA1\u0307", "a\u0323\u0307")]
    [InlineData("\u1100\u1161\u11A8", "\uAC01", "\u1100\u1161\u11A8", "\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("\uAC00\u11A8", "\uAC01", "\u1100\u1161\u11A8", "\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("\u1E9B\u0323", "\u1E9B\u0323", "\u017F\u0323\u0307", "\u1E69", "s\u0323\u0307")]
    [InlineData("\u0958", "\u0915\u093C", "\u0915\u093C", "\u0915\u093C", "\u0915\u093C")]
    [InlineData("plain ascii", "plain ascii", "plain ascii", "plain ascii", "plain ascii")]
    public void Known_cases(string input, string nfc, string nfd, string nfkc, string nfkd)
    {
        Assert.Equal(nfc, UnicodeNormalization.Normalize(input, NormalizationForm.FormC));
        Assert.Equal(nfd, UnicodeNormalization.Normalize(input, NormalizationForm.FormD));
        Assert.Equal(nfkc, UnicodeNormalization.Normalize(input, NormalizationForm.FormKC));
        Assert.Equal(nfkd, UnicodeNormalization.Normalize(input, NormalizationForm.FormKD));
    }

    [Fact]
    public void Random_strings_match_the_reference_forms()
    {
        int n = 0;
        foreach (var line in File.ReadLines(Fixtures.PathOf("normalization.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            string text = r.GetProperty("text").GetString()!;
            Assert.Equal(r.GetProperty("nfc").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormC));
            Assert.Equal(r.GetProperty("nfd").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormD));
            Assert.Equal(r.GetProperty("nfkc").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormKC));
            Assert.Equal(r.GetProperty("nfkd").GetString(), UnicodeNormalization.Normalize(text, NormalizationForm.FormKD));
            n++;
        }
        Assert.Equal(300, n);
    }

    [Fact]
    public void Sequence_applies_in_order()
    {
        var n = new SequenceNormalizer([new UnicodeFormNormalizer(NormalizationForm.FormKC), new LowercaseNormalizer()]);
        Assert.Equal("fi abc1 é", n.Normalize("\uFB01 ＡＢＣ１ E\u0301"));
    }
}
