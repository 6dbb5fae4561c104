using System.Text;

namespace RlhfSharp.Text.Tests;

/// <summary>A seeded generator of awkward strings: ASCII, accents, CJK, emoji, supplementary letters, runs of white space, line breaks.</summary>
internal static class RandomText
{
    private static readonly string[] Pool =
    [
        "a", "b", "z", "Q", "0", "7", "42", ".", ",", "!", "'", "'s", "'ll", "\"", "-", "_", "#", "(", ")", "{", "}", "<", ">", "|",
        "hello", " world", "The", " don't", "x**2", "https://", "1,000",
        "é", "à", "ü", "ñ", "ç", "ø", "Å", "ß", "Ω", "λ", "Ж", "я", "ع", "ש", "ह", "ก",
        "中", "文", "字", "学", "习", "日本", "한국어", "。", "，", "：",
        "😀", "🚀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "✓", "…", "—", "“", "”", "€",
        "𝐀", "𝓏", "𠀀", "𐍈", "𝟘",
        " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00A0", "\u3000", "\u2028",
    ];

    public static string Next(Random random, int maxParts = 24)
    {
        var sb = new StringBuilder();
        int parts = random.Next(0, maxParts + 1);
        for (int i = 0; i < parts; i++) sb.Append(Pool[random.Next(Pool.Length)]);
        return sb.ToString();
    }

    public static IEnumerable<string> Many(int seed, int count, int maxParts = 24)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++) yield return Next(random, maxParts);
    }
}
