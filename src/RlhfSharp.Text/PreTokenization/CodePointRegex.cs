using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Text.PreTokenization;

/// <summary>
/// A .NET regular expression that matches code point by code point, as the Rust <c>regex</c>
/// and Oniguruma engines used by Hugging Face tokenizers do.
/// </summary>
/// <remarks>
/// .NET regexes see UTF-16 code units, so a supplementary-plane letter (a surrogate pair) is not
/// <c>\p{L}</c> and an optional one-character class like <c>[^\r\n\p{L}\p{N}]?</c> would take half
/// of an emoji. When the text has surrogate pairs, each pair is replaced by one BMP stand-in
/// character of the same Unicode general category (no supplementary character is white space or
/// a line break, so the category decides every class these patterns use), the regex runs over
/// that one-unit-per-code-point string, and match positions are mapped back. Unpaired surrogates
/// are left as they are. .NET's <c>\s</c> (<c>[\f\n\r\t\v\x85\p{Z}]</c>) is the Unicode White_Space
/// set that Rust's <c>\s</c> uses.
/// <para>
/// Matching uses the backtracking engine with a time limit per match, not
/// <see cref="RegexOptions.NonBacktracking"/>: the pre-tokenizer patterns of GPT-2, Llama 3 and Qwen
/// need lookahead (<c>\s+(?!\S)</c>), which that engine does not support, and for patterns with an
/// optional piece in front (<c> ?,</c>) it has dropped matches the backtracking engine finds.
/// </para>
/// </remarks>
internal sealed class CodePointRegex
{
    private static readonly char[] StandIns = BuildStandIns();
    private readonly Regex _regex;

    /// <param name="pattern">The .NET pattern.</param>
    /// <param name="timeout">The limit for one match, or <see cref="Regex.InfiniteMatchTimeout"/>.</param>
    /// <param name="file">The tokenizer file the pattern came from, for error messages.</param>
    /// <param name="location">The pattern's JSON path in that file, for error messages.</param>
    /// <exception cref="ArgumentException">The pattern does not compile.</exception>
    public CodePointRegex(string pattern, TimeSpan timeout, string file, string location)
    {
        Pattern = pattern;
        File = file;
        Location = location;
        _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, timeout);
    }

    public string Pattern { get; }

    public string File { get; }

    public string Location { get; }

    /// <summary>The limit for one match.</summary>
    public TimeSpan Timeout => _regex.MatchTimeout;

    /// <summary>Appends the (start, length) of every non-empty match in <paramref name="text"/>, in UTF-16 units.</summary>
    /// <exception cref="TokenizerRegexTimeoutException">One match ran past <see cref="Timeout"/>.</exception>
    public void Matches(string text, List<(int Start, int Length)> output)
    {
        try
        {
            MatchesUnlimited(text, output);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new TokenizerRegexTimeoutException(File, Location, Pattern, Timeout, text.Length, e);
        }
    }

    private void MatchesUnlimited(string text, List<(int Start, int Length)> output)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text))
                if (m.Length > 0) output.Add((m.Index, m.Length));
            return;
        }

        var folded = new char[text.Length];
        var offsets = new int[text.Length + 1]; // offsets[k] = UTF-16 index in text of folded[k]
        int n = 0;
        for (int i = 0; i < text.Length; i++, n++)
        {
            offsets[n] = i;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, text[i + 1]);
                folded[n] = StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(cp)];
                i++;
            }
            else folded[n] = c;
        }
        offsets[n] = text.Length;
        foreach (var m in _regex.EnumerateMatches(folded.AsSpan(0, n)))
        {
            if (m.Length == 0) continue;
            int start = offsets[m.Index];
            output.Add((start, offsets[m.Index + m.Length] - start));
        }
    }

    /// <summary>
    /// For each general category, the highest BMP character of that category that is neither
    /// white space nor changes case to ASCII, so it cannot match a literal of a typical pattern.
    /// </summary>
    private static char[] BuildStandIns()
    {
        var standIns = new char[32];
        var found = new bool[32];
        for (int c = 0xFFFF; c >= 0x80; c--)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            char ch = (char)c;
            int cat = (int)CharUnicodeInfo.GetUnicodeCategory(ch);
            if (found[cat] || char.IsWhiteSpace(ch)) continue;
            if (char.ToLowerInvariant(ch) < 0x80 || char.ToUpperInvariant(ch) < 0x80) continue;
            standIns[cat] = ch;
            found[cat] = true;
        }
        for (int i = 0; i < found.Length; i++)
            if (!found[i]) standIns[i] = '\uFFFD';
        return standIns;
    }
}
