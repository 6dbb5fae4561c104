using System.Collections.Concurrent;

namespace RlhfSharp.Text.Bpe;

/// <summary>
/// A bounded, thread-safe cache from a pre-tokenized piece to its BPE ids, so a word that
/// repeats is merged once. When it reaches its capacity it is emptied and starts over, which
/// keeps memory bounded without bookkeeping on every hit. Cached arrays are never handed out
/// for callers to modify.
/// </summary>
internal sealed class MergeCache(int capacity, int maxKeyLength = 256)
{
    private readonly ConcurrentDictionary<string, int[]> _entries = new(StringComparer.Ordinal);
    private int _count;

    public int Capacity { get; } = capacity;

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(string piece, out int[] ids)
    {
        if (Capacity > 0 && _entries.TryGetValue(piece, out var found))
        {
            ids = found;
            return true;
        }
        ids = [];
        return false;
    }

    public void Add(string piece, int[] ids)
    {
        if (Capacity <= 0 || piece.Length > maxKeyLength) return;
        if (Volatile.Read(ref _count) >= Capacity)
        {
            lock (_entries)
            {
                if (_count >= Capacity)
                {
                    _entries.Clear();
                    Volatile.Write(ref _count, 0);
                }
            }
        }
        if (_entries.TryAdd(piece, ids)) Interlocked.Increment(ref _count);
    }

    public void Clear()
    {
        lock (_entries)
        {
            _entries.Clear();
            Volatile.Write(ref _count, 0);
        }
    }
}
