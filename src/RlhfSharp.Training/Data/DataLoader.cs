using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Hands out batches of examples epoch after epoch, in an order shuffled by a seeded
/// <see cref="Generator"/> (one Fisher–Yates shuffle of the indices per epoch) or in file order.
/// The same seed gives the same batches on every machine, and <see cref="GetState"/> /
/// <see cref="SetState"/> resume mid-epoch exactly. Pair it with a collator:
/// <c>collator.Collate(loader.NextBatch())</c>.
/// </summary>
public sealed class DataLoader<T>
{
    private readonly IReadOnlyList<T> _data;
    private readonly Generator _generator;
    private readonly int[] _order;
    private readonly IReadOnlyList<int>? _lengths;
    private ulong[] _epochStartState;

    /// <summary>Batches per length group when the loader groups by length.</summary>
    public const int LengthGroupBatches = 50;

    /// <param name="data">The examples.</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="seed">Seeds the shuffling generator.</param>
    /// <param name="shuffle">Shuffle each epoch (true) or keep the data order (false).</param>
    /// <param name="dropLast">Skip an epoch's last batch when it is short (true) or hand it out smaller (false).</param>
    /// <param name="lengths">
    /// Each example's length in tokens, to group batches by length (Hugging Face's <c>group_by_length</c>):
    /// each epoch's shuffled order is cut into groups of <see cref="LengthGroupBatches"/> batches, each
    /// group is sorted by length, longest first, and its full batches are then shuffled among themselves.
    /// A batch is padded to its longest example, so batches of like lengths waste less compute on padding,
    /// while every epoch still sees every example once and the batch order stays random. Null: no grouping.
    /// </param>
    public DataLoader(IReadOnlyList<T> data, int batchSize, ulong seed = 0, bool shuffle = true, bool dropLast = false,
        IReadOnlyList<int>? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("The dataset is empty.", nameof(data));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (dropLast && batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize,
                $"With dropLast the batch size must not exceed the dataset size ({data.Count}), or every batch would be dropped.");
        if (lengths is not null && lengths.Count != data.Count)
            throw new ArgumentException($"Length grouping needs one length per example: {lengths.Count} lengths for {data.Count} examples.", nameof(lengths));
        _data = data;
        _lengths = lengths;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _generator = new Generator(seed);
        _order = new int[data.Count];
        _epochStartState = _generator.GetState();
        StartEpoch(0);
    }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    /// <summary>The current epoch, from 0.</summary>
    public int Epoch { get; private set; }

    /// <summary>Positions of the current epoch's order already handed out.</summary>
    public int IndexInEpoch { get; private set; }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? _data.Count / BatchSize : (_data.Count + BatchSize - 1) / BatchSize;

    /// <summary>True when the current epoch has no batch left (the next batch starts a new epoch).</summary>
    public bool EpochFinished => DropLast ? IndexInEpoch + BatchSize > _data.Count : IndexInEpoch >= _data.Count;

    /// <summary>The next batch's dataset indices, moving on to a new epoch when this one is finished.</summary>
    public int[] NextBatchIndices()
    {
        if (EpochFinished) StartEpoch(Epoch + 1);
        int count = Math.Min(BatchSize, _data.Count - IndexInEpoch);
        var indices = _order.AsSpan(IndexInEpoch, count).ToArray();
        IndexInEpoch += count;
        return indices;
    }

    /// <summary>The next batch of examples, moving on to a new epoch when this one is finished.</summary>
    public IReadOnlyList<T> NextBatch() => [.. NextBatchIndices().Select(i => _data[i])];

    /// <summary>The batches left in the current epoch (starting the next epoch first if this one is finished).</summary>
    public IEnumerable<IReadOnlyList<T>> RestOfEpoch()
    {
        if (EpochFinished) StartEpoch(Epoch + 1);
        int epoch = Epoch;
        while (Epoch == epoch && !EpochFinished) yield return NextBatch();
    }

    /// <summary>The position to save in a checkpoint.</summary>
    public DataLoaderState GetState()
        => new(Epoch, IndexInEpoch, (ulong[])_epochStartState.Clone(), _data.Count, BatchSize);

    /// <summary>Restores a position from <see cref="GetState"/>, taken from a loader over the same data and batch size.</summary>
    public void SetState(DataLoaderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.DatasetSize != _data.Count || state.BatchSize != BatchSize)
            throw new ArgumentException(
                $"The saved data loader state is for {state.DatasetSize} examples in batches of {state.BatchSize}, but this loader has {_data.Count} in batches of {BatchSize}; resume with the same data and batch size.",
                nameof(state));
        if (state.Epoch < 0 || state.IndexInEpoch < 0 || state.IndexInEpoch > _data.Count)
            throw new ArgumentException($"The saved data loader position (epoch {state.Epoch}, index {state.IndexInEpoch}) is out of range.", nameof(state));
        _generator.SetState(state.GeneratorState);
        StartEpoch(state.Epoch);
        IndexInEpoch = state.IndexInEpoch;
    }

    /// <summary>Whether batches are grouped by example length.</summary>
    public bool GroupsByLength => _lengths is not null;

    // Cuts the epoch's order into groups of LengthGroupBatches batches, sorts each group by length
    // (longest first; ties keep the shuffled order) and shuffles the group's full batches among
    // themselves. A short last batch stays last, where dropLast looks for it.
    private void GroupByLength()
    {
        int group = BatchSize * LengthGroupBatches;
        var lengths = _lengths!;
        var buffer = new int[Math.Min(group, _order.Length)];
        for (int start = 0; start < _order.Length; start += group)
        {
            int count = Math.Min(group, _order.Length - start);
            var slice = _order.AsSpan(start, count);
            var sorted = slice.ToArray().OrderByDescending(i => lengths[i]).ToArray(); // stable: ties keep the shuffled order
            int fullBatches = count / BatchSize;
            var batchOrder = new int[fullBatches];
            for (int b = 0; b < fullBatches; b++) batchOrder[b] = b;
            if (Shuffle) _generator.Shuffle(batchOrder);
            int at = 0;
            foreach (int b in batchOrder)
                for (int i = b * BatchSize; i < (b + 1) * BatchSize; i++) buffer[at++] = sorted[i];
            for (int i = fullBatches * BatchSize; i < count; i++) buffer[at++] = sorted[i];
            buffer.AsSpan(0, count).CopyTo(slice);
        }
    }

    private void StartEpoch(int epoch)
    {
        _epochStartState = _generator.GetState();
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle) _generator.Shuffle(_order);
        if (_lengths is not null) GroupByLength();
        Epoch = epoch;
        IndexInEpoch = 0;
    }
}
