using System.Text;

namespace RlhfSharp.Text.Tests;

/// <summary>A seeded synthetic corpus: sentences of pseudo-words with a Zipf-like word distribution, some punctuation, digits and accents.</summary>
internal static class Corpus
{
    private static readonly string[] Syllables =
    [
        "ka", "lo", "mi", "ne", "ta", "ru", "so", "vi", "den", "par", "ex", "ion", "ing", "th", "qu", "str", "al", "or", "é", "ü",
        "ch", "ar", "be", "co", "du", "fa", "ge", "hi", "jo", "ku",
    ];

    public static List<string> Generate(int lines, int seed = 7)
    {
        var random = new Random(seed);
        var words = new string[600];
        for (int i = 0; i < words.Length; i++)
        {
            var w = new StringBuilder();
            int n = 1 + random.Next(4);
            for (int k = 0; k < n; k++) w.Append(Syllables[random.Next(Syllables.Length)]);
            words[i] = w.ToString();
        }
        var result = new List<string>(lines);
        for (int l = 0; l < lines; l++)
        {
            var line = new StringBuilder();
            int count = 4 + random.Next(12);
            for (int k = 0; k < count; k++)
            {
                if (k > 0) line.Append(' ');
                // Zipf-like: small indices are much more frequent.
                int index = (int)(words.Length * Math.Pow(random.NextDouble(), 2.5));
                string word = words[index];
                if (k == 0) word = char.ToUpperInvariant(word[0]) + word[1..];
                line.Append(word);
                if (random.Next(12) == 0) line.Append(',');
                if (random.Next(25) == 0) line.Append(' ').Append(random.Next(2000));
            }
            line.Append(random.Next(6) == 0 ? "?" : ".");
            result.Add(line.ToString());
        }
        return result;
    }
}
