using System.Text;
using RlhfSharp.Text.AddedTokens;
using RlhfSharp.Text.Bpe;
using RlhfSharp.Text.Loading;
using RlhfSharp.Text.Normalization;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text;

/// <summary>
/// A byte-level BPE tokenizer: Hugging Face tokenizer.json (GPT-2, Qwen, Llama-3 style) or the
/// original GPT-2 encoder.json + vocab.bpe, or one trained with <see cref="BpeTrainer"/>.
/// </summary>
/// <remarks>
/// Encoding runs: added tokens matched in the raw text → normalizer → added tokens marked
/// <c>normalized</c> → pre-tokenizer → UTF-8 bytes → BPE merges (cached per piece). Encoding and
/// decoding are thread-safe. Changing special tokens is safe alongside encoding: an encode call
/// sees the token set from before or after the change, never a mix.
/// </remarks>
public sealed partial class BpeTokenizer
{
    private readonly BpeModel _model;
    private volatile AddedVocabulary _added;

    internal BpeTokenizer(BpeModel model, Normalizer? normalizer, PreTokenizer preTokenizer,
        IEnumerable<AddedToken> addedTokens, PostProcessorTemplate? postProcessor)
    {
        _model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        _added = new AddedVocabulary(addedTokens);
        PostProcessor = postProcessor;
    }

    /// <summary>The normalizer, or null for none.</summary>
    public Normalizer? Normalizer { get; }

    /// <summary>The pre-tokenizer (always ends in byte-level mapping).</summary>
    public PreTokenizer PreTokenizer { get; }

    internal PostProcessorTemplate? PostProcessor { get; }

    internal BpeModel Model => _model;

    /// <summary>One more than the largest id of the vocabulary or the added tokens.</summary>
    public int VocabSize
    {
        get
        {
            var added = _added;
            int maxAdded = added.Tokens.Count == 0 ? -1 : added.Tokens[^1].Id;
            return Math.Max(_model.IdToToken.Length, maxAdded + 1);
        }
    }

    /// <summary>The added tokens (special and not), by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;

    /// <summary>The BPE vocabulary (byte-level spelling to id), without added tokens that are not in it.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _model.Vocab;

    /// <summary>The merges, best (lowest rank) first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _model.Merges;

    /// <summary>The id of an added token or vocabulary entry, or null.</summary>
    public int? TokenToId(string token)
        => _added.ByContent.TryGetValue(token, out var t) ? t.Id : _model.TokenToId(token);

    /// <summary>The added token content or byte-level vocabulary spelling of an id, or null.</summary>
    public string? IdToToken(int id)
    {
        if (_added.ById.TryGetValue(id, out var t)) return t.Content;
        return id >= 0 && id < _model.IdToToken.Length ? _model.IdToToken[id] : null;
    }

    /// <summary>Encodes text to ids.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Add BOS/EOS (or the post-processor's template), see <see cref="AddBosToken"/>.</param>
    /// <param name="splitSpecialTokens">Treat special tokens in the text as plain text (tokenizers' <c>split_special_tokens</c>).</param>
    public int[] Encode(string text, bool addSpecialTokens = false, bool splitSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(SpecialPrefix());
        EncodeInto(text, splitSpecialTokens, ids);
        if (addSpecialTokens) ids.AddRange(SpecialSuffix());
        return [.. ids];
    }

    /// <summary>
    /// Encodes many texts (in parallel when there are many). With <paramref name="maxLength"/>,
    /// each result is cut to at most that many ids on <paramref name="side"/>; added BOS/EOS are
    /// kept and the text is cut to make room for them.
    /// </summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, int? maxLength = null,
        TruncationSide side = TruncationSide.Right, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (maxLength is < 0) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must be non-negative");
        var results = new int[texts.Count][];
        int[] prefix = addSpecialTokens ? SpecialPrefix() : [];
        int[] suffix = addSpecialTokens ? SpecialSuffix() : [];
        void One(int i)
        {
            var ids = new List<int>();
            EncodeInto(texts[i] ?? throw new ArgumentNullException($"{nameof(texts)}[{i}]"), false, ids);
            int room = maxLength is int m ? Math.Max(0, m - prefix.Length - suffix.Length) : int.MaxValue;
            if (ids.Count > room)
            {
                if (side == TruncationSide.Right) ids.RemoveRange(room, ids.Count - room);
                else ids.RemoveRange(0, ids.Count - room);
            }
            int[] all = [.. prefix, .. ids, .. suffix];
            results[i] = maxLength is int max && all.Length > max
                ? (side == TruncationSide.Right ? all[..max] : all[^max..])
                : all;
        }
        if (texts.Count >= 32) Parallel.For(0, texts.Count, One);
        else for (int i = 0; i < texts.Count; i++) One(i);
        return results;
    }

    private void EncodeInto(string text, bool splitSpecialTokens, List<int> ids)
    {
        var added = _added;
        var raw = splitSpecialTokens ? added.RawNonSpecial : added.Raw;
        var normalizedMatcher = splitSpecialTokens ? added.NormalizedNonSpecial : added.Normalized;
        var pieces = new List<string>();
        foreach (var (segment, token) in raw.Split(text))
        {
            if (token is not null)
            {
                ids.Add(token.Id);
                continue;
            }
            string normalized = Normalizer?.Normalize(segment) ?? segment;
            foreach (var (inner, innerToken) in normalizedMatcher.Split(normalized))
            {
                if (innerToken is not null)
                {
                    ids.Add(innerToken.Id);
                    continue;
                }
                pieces.Clear();
                PreTokenizer.Split(inner, pieces);
                foreach (var piece in pieces) _model.EncodePiece(piece, ids);
            }
        }
    }

    /// <summary>
    /// Encodes text given in parts, appending to <paramref name="ids"/>: added tokens are recognised
    /// only in parts that are not <c>Plain</c>; a plain part is normalized on its own and its
    /// added-token look-alikes stay text. Text up to the next added token is pre-tokenized as one
    /// string across part boundaries, so parts that hold no added token encode exactly like their
    /// concatenation (up to normalization across a boundary, which is applied per part).
    /// </summary>
    internal void EncodeParts(IReadOnlyList<(string Text, bool Plain)> parts, List<int> ids)
    {
        var added = _added;
        var run = new StringBuilder();
        var pieces = new List<string>();
        void Flush()
        {
            if (run.Length == 0) return;
            pieces.Clear();
            PreTokenizer.Split(run.ToString(), pieces);
            foreach (var piece in pieces) _model.EncodePiece(piece, ids);
            run.Clear();
        }
        foreach (var (text, plain) in parts)
        {
            if (plain)
            {
                run.Append(Normalizer?.Normalize(text) ?? text);
                continue;
            }
            foreach (var (segment, token) in added.Raw.Split(text))
            {
                if (token is not null)
                {
                    Flush();
                    ids.Add(token.Id);
                    continue;
                }
                foreach (var (inner, innerToken) in added.Normalized.Split(Normalizer?.Normalize(segment) ?? segment))
                {
                    if (innerToken is not null)
                    {
                        Flush();
                        ids.Add(innerToken.Id);
                    }
                    else run.Append(inner);
                }
            }
        }
        Flush();
    }

    /// <summary>
    /// Decodes ids to text. Byte sequences that are not valid UTF-8 (a cut in the middle of a
    /// character) become U+FFFD, as in tokenizers.
    /// </summary>
    /// <param name="ids">The ids.</param>
    /// <param name="skipSpecialTokens">Leave out special added tokens and the BOS/EOS/PAD/UNK tokens.</param>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var added = _added;
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            if (added.ById.TryGetValue(id, out var token))
            {
                if (!(skipSpecialTokens && (token.Special || IsRoleToken(id))))
                    bytes.AddRange(Encoding.UTF8.GetBytes(token.Content));
                continue;
            }
            string? spelling = id >= 0 && id < _model.IdToToken.Length ? _model.IdToToken[id] : null;
            if (spelling is null)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"id {id} is not in the vocabulary (size {VocabSize})");
            if (skipSpecialTokens && IsRoleToken(id)) continue;
            ByteLevelAlphabet.AppendBytes(spelling, bytes);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{int}, bool)"/>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
        => Decode(ids.ToArray().AsSpan(), skipSpecialTokens);

    /// <summary>Decodes each sequence of a batch.</summary>
    public string[] DecodeBatch(IReadOnlyList<int[]> batch, bool skipSpecialTokens = false)
        => [.. batch.Select(ids => Decode(ids.AsSpan(), skipSpecialTokens))];

    /// <summary>The pieces the normalizer and pre-tokenizer make of <paramref name="text"/> (no added-token matching).</summary>
    public List<string> PreTokenize(string text) => PreTokenizer.Split(Normalizer?.Normalize(text) ?? text);

    /// <summary>Empties the per-piece merge cache.</summary>
    public void ClearCache() => _model.Cache.Clear();
}
