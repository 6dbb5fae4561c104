namespace RlhfSharp.Text.Chat;

/// <summary>
/// A rendered conversation: its text, where each assistant turn's content (with its end marker)
/// lies in it, and where the conversation's own text (message contents, role names) lies, as
/// opposed to the template's markup. Any template engine that fills these spans can be encoded
/// with <see cref="Encode(BpeTokenizer, SpecialTokensInContent)"/>.
/// </summary>
/// <param name="Text">The rendered text.</param>
/// <param name="AssistantSpans">The assistant turns (content and end marker), in order, not overlapping.</param>
/// <param name="ContentSpans">The conversation's own text, in order, not overlapping.</param>
public sealed record RenderedChat(string Text, IReadOnlyList<TextSpan> AssistantSpans, IReadOnlyList<TextSpan> ContentSpans)
{
    /// <summary>Tokenizes the whole text with a per-token assistant mask; see <see cref="Encode(BpeTokenizer, TextSpan, SpecialTokensInContent)"/>.</summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, SpecialTokensInContent content = SpecialTokensInContent.Text)
        => Encode(tokenizer, new TextSpan(0, Text.Length), content);

    /// <summary>
    /// Tokenizes the characters of <paramref name="range"/> with a per-token assistant mask. The
    /// text is cut at every assistant span boundary and each stretch is tokenized on its own, so
    /// the mask is exact: no token straddles a prompt/assistant boundary. Within a stretch,
    /// added tokens are recognised in the markup and, with <see cref="SpecialTokensInContent.Text"/>,
    /// are plain text in the content spans; text on both sides of a markup/content boundary is
    /// pre-tokenized together, so content without added tokens encodes as the whole text would.
    /// No BOS/EOS is added beyond what the template writes.
    /// </summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, TextSpan range, SpecialTokensInContent content = SpecialTokensInContent.Text)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (range.Start < 0 || range.Length < 0 || range.End > Text.Length)
            throw new ArgumentOutOfRangeException(nameof(range), range, $"must lie within the text (length {Text.Length}).");
        var cuts = new SortedSet<int> { range.Start, range.End };
        foreach (var s in AssistantSpans)
        {
            if (s.Start > range.Start && s.Start < range.End) cuts.Add(s.Start);
            if (s.End > range.Start && s.End < range.End) cuts.Add(s.End);
        }
        var ids = new List<int>();
        var mask = new List<bool>();
        var parts = new List<(string Text, bool Plain)>();
        int from = -1;
        foreach (int to in cuts)
        {
            if (from >= 0 && to > from)
            {
                parts.Clear();
                AddParts(from, to, content == SpecialTokensInContent.Text, parts);
                int before = ids.Count;
                tokenizer.EncodeParts(parts, ids);
                bool assistant = AssistantSpans.Any(s => s.Start <= from && to <= s.End);
                for (int i = before; i < ids.Count; i++) mask.Add(assistant);
            }
            from = to;
        }
        return new ChatEncoding([.. ids], [.. mask]);
    }

    // Cuts [from, to) into markup and (when contentIsPlain) content parts.
    private void AddParts(int from, int to, bool contentIsPlain, List<(string Text, bool Plain)> parts)
    {
        int pos = from;
        if (contentIsPlain)
        {
            foreach (var s in ContentSpans)
            {
                int start = Math.Max(s.Start, pos), end = Math.Min(s.End, to);
                if (end <= start) continue;
                if (start > pos) parts.Add((Text[pos..start], false));
                parts.Add((Text[start..end], true));
                pos = end;
            }
        }
        if (pos < to) parts.Add((Text[pos..to], false));
    }
}
