using System.Buffers;

namespace RlhfSharp.Text.AddedTokens;

/// <summary>
/// Finds added tokens in text: leftmost match first, the longest token at that position, with
/// the lstrip/rstrip/single_word rules of tokenizers' AddedVocabulary. Immutable.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar = [];
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        foreach (var group in tokens.Where(t => t.Content.Length > 0).GroupBy(t => t.Content[0]))
            _byFirstChar[group.Key] = [.. group.OrderByDescending(t => t.Content.Length).ThenBy(t => t.Id)];
        _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Splits <paramref name="text"/> into segments: plain text (Token null) and added-token
    /// matches. Empty plain segments are left out.
    /// </summary>
    public List<(string Text, AddedToken? Token)> Split(string text)
    {
        var result = new List<(string, AddedToken?)>();
        if (IsEmpty)
        {
            if (text.Length > 0) result.Add((text, null));
            return result;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            int found = text.AsSpan(i).IndexOfAny(_firstChars);
            if (found < 0) break;
            i += found;
            var token = MatchAt(text, i);
            if (token is null)
            {
                i++;
                continue;
            }
            int start = i, end = i + token.Content.Length;
            if (token.LStrip)
                while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip)
                while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) result.Add((text[plainStart..start], null));
            result.Add((text[start..end], token));
            plainStart = i = end;
        }
        if (plainStart < text.Length) result.Add((text[plainStart..], null));
        return result;
    }

    private AddedToken? MatchAt(string text, int i)
    {
        if (!_byFirstChar.TryGetValue(text[i], out var candidates)) return null;
        var rest = text.AsSpan(i);
        foreach (var t in candidates)
        {
            if (!rest.StartsWith(t.Content, StringComparison.Ordinal)) continue;
            if (t.SingleWord)
            {
                int end = i + t.Content.Length;
                bool wordBefore = i > 0 && IsWordChar(text[i - 1]);
                bool wordAfter = end < text.Length && IsWordChar(text[end]);
                if (wordBefore || wordAfter) continue;
            }
            return t;
        }
        return null;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
