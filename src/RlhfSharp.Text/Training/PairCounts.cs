namespace RlhfSharp.Text;

/// <summary>
/// The trainer's bookkeeping: how often each adjacent pair occurs (weighted by word count), which
/// words contain it, and a max-priority queue of pairs that is cleaned lazily (an entry whose
/// count no longer matches is skipped when popped; every change pushes a fresh entry).
/// </summary>
internal sealed class PairCounts
{
    private readonly Dictionary<long, long> _counts = [];
    private readonly Dictionary<long, HashSet<int>> _where = [];
    private readonly PriorityQueue<long, (long Count, long Pair)> _queue = new(BestFirst.Instance);

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public static (int Left, int Right) Split(long pair) => ((int)(pair >> 32), (int)(uint)pair);

    public void AddWord(List<int> word, long count, int wordIndex, HashSet<long>? changed = null)
    {
        for (int i = 0; i + 1 < word.Count; i++)
        {
            long p = Key(word[i], word[i + 1]);
            _counts[p] = _counts.GetValueOrDefault(p) + count;
            if (!_where.TryGetValue(p, out var set)) _where[p] = set = [];
            set.Add(wordIndex);
            changed?.Add(p);
        }
    }

    public void RemoveWord(List<int> word, long count, HashSet<long> changed)
    {
        for (int i = 0; i + 1 < word.Count; i++)
        {
            long p = Key(word[i], word[i + 1]);
            _counts[p] -= count;
            changed.Add(p);
        }
    }

    /// <summary>The words that contained the pair at some point (callers re-check).</summary>
    public int[] WordsWith(long pair) => _where.TryGetValue(pair, out var set) ? [.. set] : [];

    public void Forget(long pair)
    {
        _counts.Remove(pair);
        _where.Remove(pair);
    }

    public void PushAll()
    {
        foreach (var (p, c) in _counts)
            if (c > 0) _queue.Enqueue(p, (c, p));
    }

    public void Push(HashSet<long> pairs)
    {
        foreach (long p in pairs)
        {
            if (_counts.TryGetValue(p, out long c) && c > 0) _queue.Enqueue(p, (c, p));
            else
            {
                _counts.Remove(p);
                _where.Remove(p);
            }
        }
    }

    public bool TryPopBest(out long pair, out long count)
    {
        while (_queue.TryDequeue(out pair, out var priority))
        {
            if (_counts.TryGetValue(pair, out count) && count == priority.Count) return true;
        }
        count = 0;
        return false;
    }

    /// <summary>Higher count first; equal counts by smaller (left, right) id pair.</summary>
    private sealed class BestFirst : IComparer<(long Count, long Pair)>
    {
        public static readonly BestFirst Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y)
            => x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}
