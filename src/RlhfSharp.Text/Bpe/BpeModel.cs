using System.Text;

namespace RlhfSharp.Text.Bpe;

/// <summary>
/// A byte-level BPE model: the vocabulary, the ranked merges and the merge loop. Immutable after
/// construction apart from its thread-safe cache, so encoding may run on many threads at once.
/// </summary>
internal sealed class BpeModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int[] _byteToId = new int[256];
    private readonly MergeCache _cache;

    /// <param name="vocab">Token (in byte-level characters) to id.</param>
    /// <param name="merges">Merges by rank; both halves and their concatenation must be in the vocabulary.</param>
    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        bool ignoreMerges, string? unkToken, int cacheCapacity = 10_000)
    {
        _vocab = vocab;
        Merges = merges;
        IgnoreMerges = ignoreMerges;
        UnkToken = unkToken;
        UnkId = unkToken is not null && vocab.TryGetValue(unkToken, out int u) ? u : null;
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (l, r) = merges[rank];
            long key = PairKey(vocab[l], vocab[r]);
            _merges.TryAdd(key, (rank, vocab[l + r])); // a repeated merge keeps its first (best) rank
        }
        for (int b = 0; b < 256; b++)
            _byteToId[b] = vocab.TryGetValue(ByteLevelAlphabet.ByteToChar((byte)b).ToString(), out int id) ? id : -1;
        int maxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
        IdToToken = new string?[maxId + 1];
        foreach (var (token, id) in vocab) IdToToken[id] = token;
        _cache = new MergeCache(cacheCapacity);
    }

    public IReadOnlyDictionary<string, int> Vocab => _vocab;
    public IReadOnlyList<(string Left, string Right)> Merges { get; }
    public bool IgnoreMerges { get; }
    public string? UnkToken { get; }
    public int? UnkId { get; }

    /// <summary>Id to token; null where the vocabulary has no such id.</summary>
    public string?[] IdToToken { get; }

    public MergeCache Cache => _cache;

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>Appends the ids of one pre-tokenized piece (plain text; its UTF-8 bytes are what is merged).</summary>
    public void EncodePiece(string piece, List<int> output)
    {
        if (_cache.TryGet(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = Merge(piece);
        _cache.Add(piece, ids);
        output.AddRange(ids);
    }

    private int[] Merge(string piece)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(piece);
        if (IgnoreMerges && _vocab.TryGetValue(ByteLevelAlphabet.Encode(bytes), out int whole))
            return [whole];

        int n = bytes.Length;
        var ids = new int[n];
        int count = 0;
        foreach (byte b in bytes)
        {
            int id = _byteToId[b];
            if (id >= 0) ids[count++] = id;
            else if (UnkId is int unk) ids[count++] = unk; // a vocabulary without this byte; tokenizers drops it when there is no unk
        }
        if (count < 2) return ids[..count];
        return MergeSymbols(ids, count);
    }

    /// <summary>
    /// Applies merges lowest rank first, leftmost first among equal ranks, as tokenizers'
    /// <c>Word::merge_all</c> does: a doubly linked list of symbols and a priority queue of
    /// candidate pairs that is checked lazily when an entry is popped.
    /// </summary>
    private int[] MergeSymbols(int[] ids, int n)
    {
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }
        var queue = new PriorityQueue<int, long>();
        void Push(int pos)
        {
            int right = next[pos];
            if (right >= 0 && _merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m))
                queue.Enqueue(pos, ((long)m.Rank << 32) | (uint)pos);
        }
        for (int i = 0; i < n - 1; i++) Push(i);

        while (queue.TryDequeue(out int pos, out long priority))
        {
            int rank = (int)(priority >> 32);
            if (!alive[pos]) continue;
            int right = next[pos];
            if (right < 0) continue;
            if (!_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var m) || m.Rank != rank) continue; // stale
            ids[pos] = m.Id;
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0) Push(prev[pos]);
            Push(pos);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return [.. result];
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
