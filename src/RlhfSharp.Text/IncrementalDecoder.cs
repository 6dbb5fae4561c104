namespace RlhfSharp.Text;

/// <summary>
/// Turns a response's token ids, as they are sampled one by one, into the text that each adds,
/// such that the pieces joined equal <see cref="BpeTokenizer.Decode(ReadOnlySpan{int}, bool)"/> of
/// all the ids, cut at the first stop string. Text is held back while it may still change: a
/// trailing U+FFFD (the first bytes of a character whose last bytes are yet to come) and a tail
/// that could be the start of a stop string.
/// </summary>
public sealed class IncrementalDecoder
{
    private readonly BpeTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly IReadOnlyList<string> _stop;
    private readonly List<int> _ids = [];
    private int _emitted;
    private string _text = "";

    /// <param name="tokenizer">The tokenizer that made the ids.</param>
    /// <param name="stopStrings">Strings that end the text (not part of it).</param>
    /// <param name="skipSpecialTokens">Leave special tokens out, as the final decode does.</param>
    public IncrementalDecoder(BpeTokenizer tokenizer, IReadOnlyList<string>? stopStrings = null, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _stop = stopStrings ?? [];
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>True once a stop string has appeared: later tokens add nothing.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The text given out so far.</summary>
    public string Emitted => _text[.._emitted];

    /// <summary>Adds one token; returns the text that can be given out now (often empty).</summary>
    public string Push(int id)
    {
        if (Stopped)
            return "";
        _ids.Add(id);
        _text = _tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids), _skipSpecialTokens);
        int cut = StopAt(_text);
        if (cut >= 0)
        {
            Stopped = true;
            _text = _text[..cut];
            return Take(_text.Length);
        }
        int safe = _text.Length;
        while (safe > _emitted && _text[safe - 1] == '\uFFFD')
            safe--;
        safe -= LongestStopPrefixAtEnd(_text.AsSpan(0, safe));
        return Take(safe);
    }

    /// <summary>The text held back, given out at the end of the response.</summary>
    public string Finish() => Take(_text.Length);

    private string Take(int upTo)
    {
        if (upTo <= _emitted)
            return "";
        string piece = _text[_emitted..upTo];
        _emitted = upTo;
        return piece;
    }

    private int StopAt(string text)
    {
        int cut = -1;
        foreach (var s in _stop)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut))
                cut = i;
        }
        return cut;
    }

    // The longest tail of text that is a proper prefix of a stop string: it may yet become one.
    private int LongestStopPrefixAtEnd(ReadOnlySpan<char> text)
    {
        int best = 0;
        foreach (var s in _stop)
        {
            for (int n = Math.Min(s.Length - 1, text.Length); n > best; n--)
            {
                if (text[^n..].SequenceEqual(s.AsSpan(0, n)))
                {
                    best = n;
                    break;
                }
            }
        }
        return best;
    }
}
