using System.Text.Json;

namespace RlhfSharp.Text.PreTokenization;

/// <summary>The <c>Split</c> pre-tokenizer: splits on a regex (or literal string) with a <see cref="SplitBehavior"/>.</summary>
public sealed class SplitPreTokenizer : PreTokenizer
{
    private readonly CodePointRegex _regex;

    /// <param name="pattern">A regex, or a literal string when <paramref name="isRegex"/> is false.</param>
    /// <param name="isRegex">Whether <paramref name="pattern"/> is a regex.</param>
    /// <param name="behavior">What to do with the matches.</param>
    /// <param name="invert">Split on what does not match instead.</param>
    /// <param name="matchTimeout">The limit for one regex match; null for <see cref="TokenizerLoadOptions.ResolveRegexTimeout"/> of the default options.</param>
    /// <exception cref="ArgumentException">The regex does not compile.</exception>
    public SplitPreTokenizer(string pattern, bool isRegex, SplitBehavior behavior, bool invert, TimeSpan? matchTimeout = null)
        : this(pattern, isRegex, behavior, invert, matchTimeout ?? new TokenizerLoadOptions().ResolveRegexTimeout(), "(SplitPreTokenizer)", "pattern")
    {
    }

    /// <param name="file">The tokenizer file the pattern came from and <paramref name="location"/> its JSON path: what a timeout names.</param>
    internal SplitPreTokenizer(string pattern, bool isRegex, SplitBehavior behavior, bool invert, TimeSpan matchTimeout, string file, string location)
    {
        PatternText = pattern;
        IsRegex = isRegex;
        Behavior = behavior;
        Invert = invert;
        _regex = new CodePointRegex(isRegex ? pattern : System.Text.RegularExpressions.Regex.Escape(pattern), matchTimeout, file, location);
    }

    public string PatternText { get; }
    public bool IsRegex { get; }
    public SplitBehavior Behavior { get; }
    public bool Invert { get; }

    /// <summary>The limit for one regex match.</summary>
    public TimeSpan MatchTimeout => _regex.Timeout;

    internal override bool IsByteLevel => false;

    public override void Split(string piece, List<string> output)
    {
        var matches = new List<(int Start, int Length)>();
        _regex.Matches(piece, matches);

        // Cover the piece with alternating (gap, match) segments.
        var segments = new List<(int Start, int Length, bool IsMatch)>(matches.Count * 2 + 1);
        int pos = 0;
        foreach (var (start, length) in matches)
        {
            if (start > pos) segments.Add((pos, start - pos, Invert));
            segments.Add((start, length, !Invert));
            pos = start + length;
        }
        if (pos < piece.Length) segments.Add((pos, piece.Length - pos, Invert));

        // The merging behaviours follow tokenizers' SplitDelimiterBehavior rules exactly.
        int pendingStart = -1, pendingEnd = -1;
        bool previousMatch = false;
        foreach (var (start, length, isMatch) in segments)
        {
            int end = start + length;
            bool extend = Behavior switch
            {
                SplitBehavior.MergedWithPrevious => isMatch && !previousMatch && pendingStart >= 0,
                SplitBehavior.MergedWithNext => previousMatch && pendingStart >= 0,
                SplitBehavior.Contiguous => isMatch && previousMatch && pendingStart >= 0,
                _ => false,
            };
            if (extend) pendingEnd = end;
            else
            {
                if (pendingStart >= 0) output.Add(piece[pendingStart..pendingEnd]);
                (pendingStart, pendingEnd) = (start, end);
                if (Behavior == SplitBehavior.Removed && isMatch) pendingStart = pendingEnd = -1;
            }
            previousMatch = isMatch;
        }
        if (pendingStart >= 0) output.Add(piece[pendingStart..pendingEnd]);
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Split");
        writer.WriteStartObject("pattern");
        writer.WriteString(IsRegex ? "Regex" : "String", PatternText);
        writer.WriteEndObject();
        writer.WriteString("behavior", Behavior.ToString());
        writer.WriteBoolean("invert", Invert);
        writer.WriteEndObject();
    }
}
