using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>How a <see cref="LabellingSession"/> shares the pairs among labellers.</summary>
public sealed record LabellingOptions
{
    /// <summary>Fraction of the pairs that <see cref="OverlapLabellers"/> different labellers each label (for agreement statistics).</summary>
    public double Overlap { get; init; }

    /// <summary>How many labellers label each overlapping pair.</summary>
    public int OverlapLabellers { get; init; } = 2;

    /// <summary>How long a pair shown to one labeller is kept from the others while they decide.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Seeds which pairs overlap and which response each labeller sees on the left.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The names allowed to label; empty allows any.</summary>
    public IReadOnlyList<string> Labellers { get; init; } = [];

    /// <summary>Labels per labeller the pace is averaged over.</summary>
    public int PaceWindow { get; init; } = 20;
}

/// <summary>A pair as one labeller sees it: which response is on the left.</summary>
public sealed record ItemView(PairItem Item, Side Left)
{
    public string LeftText => Item.Text(Left);

    public string RightText => Item.Text(Submission.Other(Left));
}

/// <summary>Where the session stands, overall and for one labeller.</summary>
/// <param name="ItemsDone">Pairs with all the labels they need.</param>
/// <param name="Items">Pairs in the session.</param>
/// <param name="Labels">Labels given on this session's pairs.</param>
/// <param name="LabelsNeeded">Labels needed in all (an overlapping pair needs several).</param>
/// <param name="Yours">Labels the labeller has given.</param>
/// <param name="PacePerMinute">The labeller's labels per minute of looking at pairs (over their last few labels); null before the first.</param>
/// <param name="SecondsPerLabel">The same pace as mean seconds per label.</param>
public sealed record Progress(int ItemsDone, int Items, int Labels, int LabelsNeeded, int Yours, double? PacePerMinute, double? SecondsPerLabel);

/// <summary>What a labeller is shown next: a pair, or why there is none.</summary>
public enum NextState
{
    /// <summary>Here is a pair.</summary>
    Item,

    /// <summary>The pairs the labeller could still label are being labelled by others right now.</summary>
    Waiting,

    /// <summary>Nothing is left for this labeller.</summary>
    Done,
}

public sealed record NextResult(NextState State, ItemView? View, Progress Progress);

/// <summary>The outcome of a submitted label.</summary>
public enum SubmitOutcome
{
    Saved,

    /// <summary>This labeller had already labelled the pair: the label was saved before (e.g. its answer was lost in a restart).</summary>
    AlreadyLabelled,

    UnknownItem,
}

public sealed record SubmitResult(SubmitOutcome Outcome, Progress Progress);

/// <summary>An undone label and the pair shown again, with the response on the left it had before.</summary>
public sealed record UndoResult(LabelRecord Undone, ItemView? View, Progress Progress);

/// <summary>
/// Hands out the session's pairs to labellers and takes their labels into a <see cref="LabelStore"/>.
/// A pair needs one label, or <see cref="LabellingOptions.OverlapLabellers"/> labels by different
/// people when it is among the <see cref="LabellingOptions.Overlap"/> fraction chosen (by seeded
/// hash, so the same pairs after a restart) to measure agreement. Each labeller is shown the first
/// pair, in source order, that they have not labelled and that still needs labels not already
/// promised to others: showing a pair leases it to the labeller for <see cref="LabellingOptions.Lease"/>
/// (a reload shows the same pair again), so two people labelling at once do not both get a pair
/// that needs one label. A skip counts as that labeller's label. Which response is on the left is
/// a seeded hash of the pair and the labeller: random-looking, recorded with each label, and the
/// same again after a reload.
/// </summary>
public sealed class LabellingSession
{
    private readonly object _gate = new();
    private readonly List<PairItem> _items;
    private readonly Dictionary<string, int> _index;
    private readonly int[] _required;
    private readonly List<string>[] _labelledBy;
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private readonly LabelStore _store;
    private readonly LabellingOptions _options;
    private readonly TimeProvider _time;

    public LabellingSession(IReadOnlyList<PairItem> items, LabelStore store, LabellingOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? new LabellingOptions();
        if (!(_options.Overlap is >= 0 and <= 1) || _options.OverlapLabellers < 2 || _options.Lease <= TimeSpan.Zero || _options.PaceWindow < 1)
            throw new ArgumentException("overlap must be in [0, 1], overlap_labellers >= 2, and the lease and pace window positive", nameof(options));
        _items = [.. items];
        _store = store;
        _time = time ?? TimeProvider.System;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _items.Count; i++)
        {
            if (!_index.TryAdd(_items[i].Id, i))
                throw new ArgumentException($"pair {_items[i].Id} is in the list twice", nameof(items));
        }
        _required = new int[_items.Count];
        Array.Fill(_required, 1);
        foreach (var i in OverlapIndices(_items, _options.Overlap, _options.Seed))
            _required[i] = _options.OverlapLabellers;
        _labelledBy = [.. _items.Select(_ => new List<string>())];
        foreach (var r in store.Records())
        {
            if (_index.TryGetValue(r.ItemId, out int i))
                _labelledBy[i].Add(r.Labeller);
            else
                OtherLabels++;
        }
    }

    /// <summary>Labels in the files for pairs that are not in this session's list.</summary>
    public int OtherLabels { get; }

    public IReadOnlyList<PairItem> Items => _items;

    /// <summary>How many labels pair <paramref name="index"/> needs.</summary>
    public int Required(int index) => _required[index];

    /// <summary>
    /// The <c>round(overlap·n)</c> pairs whose seeded hash of the id is lowest: the same choice for
    /// the same pairs whatever their order.
    /// </summary>
    public static IReadOnlyList<int> OverlapIndices(IReadOnlyList<PairItem> items, double overlap, int seed)
    {
        int count = (int)Math.Round(overlap * items.Count, MidpointRounding.AwayFromZero);
        return [.. Enumerable.Range(0, items.Count)
            .OrderBy(i => Hash(seed, "overlap", items[i].Id), StringComparer.Ordinal)
            .Take(count)
            .Order()];
    }

    /// <summary>Whether <paramref name="labeller"/> may label (any name when no list was given).</summary>
    public bool IsAllowed(string labeller) => _options.Labellers.Count == 0 || _options.Labellers.Contains(labeller, StringComparer.Ordinal);

    /// <summary>The pair to show <paramref name="labeller"/> now (leased to them), or why there is none.</summary>
    public NextResult Next(string labeller)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_leases.TryGetValue(labeller, out var held) && held.Expires > now && !_labelledBy[held.Index].Contains(labeller))
            {
                _leases[labeller] = held with { Expires = now + _options.Lease };
                return new NextResult(NextState.Item, new ItemView(_items[held.Index], held.Left), ProgressOf(labeller));
            }
            _leases.Remove(labeller);
            bool waiting = false;
            for (int i = 0; i < _items.Count; i++)
            {
                if (_labelledBy[i].Contains(labeller) || _labelledBy[i].Count >= _required[i])
                    continue;
                int promised = _leases.Count(kv => kv.Value.Index == i && kv.Value.Expires > now);
                if (_labelledBy[i].Count + promised >= _required[i])
                {
                    waiting = true;
                    continue;
                }
                var left = SideFor(_items[i].Id, labeller);
                _leases[labeller] = new Lease(i, left, now + _options.Lease);
                return new NextResult(NextState.Item, new ItemView(_items[i], left), ProgressOf(labeller));
            }
            return new NextResult(waiting ? NextState.Waiting : NextState.Done, null, ProgressOf(labeller));
        }
    }

    /// <summary>Saves a label (flushed to disk before this returns).</summary>
    public SubmitResult Submit(Submission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        lock (_gate)
        {
            if (!_index.TryGetValue(submission.ItemId, out int i))
                return new SubmitResult(SubmitOutcome.UnknownItem, ProgressOf(submission.Labeller));
            bool saved = _store.TryAppend(_items[i], submission, _time.GetUtcNow(), out _);
            if (saved)
                _labelledBy[i].Add(submission.Labeller);
            if (_leases.TryGetValue(submission.Labeller, out var lease) && lease.Index == i)
                _leases.Remove(submission.Labeller);
            return new SubmitResult(saved ? SubmitOutcome.Saved : SubmitOutcome.AlreadyLabelled, ProgressOf(submission.Labeller));
        }
    }

    /// <summary>Removes the labeller's latest label and shows its pair again (leased to them); null when they have none.</summary>
    public UndoResult? Undo(string labeller)
    {
        lock (_gate)
        {
            var undone = _store.Undo(labeller);
            if (undone is null)
                return null;
            ItemView? view = null;
            if (_index.TryGetValue(undone.ItemId, out int i))
            {
                _labelledBy[i].Remove(labeller);
                var left = _items[i].A == undone.LeftText ? Side.A : Side.B;
                _leases[labeller] = new Lease(i, left, _time.GetUtcNow() + _options.Lease);
                view = new ItemView(_items[i], left);
            }
            return new UndoResult(undone, view, ProgressOf(labeller));
        }
    }

    public Progress ProgressOf(string labeller)
    {
        lock (_gate)
        {
            int done = 0, labels = 0, needed = 0;
            for (int i = 0; i < _items.Count; i++)
            {
                labels += _labelledBy[i].Count;
                needed += _required[i];
                if (_labelledBy[i].Count >= _required[i])
                    done++;
            }
            var mine = _store.Records().Where(r => r.Labeller == labeller).ToList();
            var recent = mine.TakeLast(_options.PaceWindow).Select(r => r.Seconds).Where(s => s > 0).ToList();
            double? secondsPerLabel = recent.Count == 0 ? null : recent.Average();
            return new Progress(done, _items.Count, labels, needed, mine.Count, 60 / secondsPerLabel, secondsPerLabel);
        }
    }

    private Side SideFor(string itemId, string labeller) =>
        (HashBytes(_options.Seed, "left", itemId + "\n" + labeller)[0] & 1) == 0 ? Side.A : Side.B;

    private static byte[] HashBytes(int seed, string purpose, string text) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}\n{purpose}\n{text}"));

    private static string Hash(int seed, string purpose, string text) => Convert.ToHexStringLower(HashBytes(seed, purpose, text));

    private sealed record Lease(int Index, Side Left, DateTimeOffset Expires);
}
