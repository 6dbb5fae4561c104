using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Tensors.Distributed;

/// <summary>
/// ZeRO stage 1 (Rajbhandari et al. 2020): the optimizer's moments are split across the ranks.
/// The parameter list is cut into one contiguous range per rank, balanced by element count;
/// each rank keeps AdamW's moments for its range only and updates only those parameters, then
/// <see cref="GatherParameters"/> all-gathers the new values so every rank holds the whole model
/// again. Gradients are still summed in full beforehand, so the weights are those of an
/// unsharded run, while the moments (two floats per parameter) shrink to about 1/N per rank.
/// </summary>
public sealed class ZeroRedundancy
{
    private readonly Optimizer _optimizer;
    private readonly Communicator _comm;
    private readonly int[] _owner;
    private readonly Tensor[] _params;

    public ZeroRedundancy(Optimizer optimizer, Communicator comm)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _optimizer = optimizer;
        _comm = comm;
        _params = [.. optimizer.Parameters];
        _owner = Partition([.. _params.Select(p => (long)p.Numel)], comm.Size);
        optimizer.ShardState(i => _owner[i] == comm.Rank);
    }

    /// <summary>The rank that owns each parameter (index in the optimizer's order).</summary>
    public IReadOnlyList<int> Owners => _owner;

    /// <summary>
    /// Cuts <paramref name="sizes"/> into <paramref name="ranks"/> contiguous ranges of about
    /// equal total size: parameter i goes to the rank whose share of the running total it starts in.
    /// </summary>
    public static int[] Partition(IReadOnlyList<long> sizes, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        long total = sizes.Sum();
        var owner = new int[sizes.Count];
        long before = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            // The parameter's midpoint decides, so a large one goes where most of it falls.
            double mid = before + (sizes[i] / 2.0);
            owner[i] = total == 0 ? 0 : Math.Min(ranks - 1, (int)(mid * ranks / total));
            before += sizes[i];
        }
        return owner;
    }

    /// <summary>After <see cref="Optimizer.Step"/>: every rank receives the parameters the others updated.</summary>
    public void GatherParameters()
    {
        if (_comm.Size == 1)
            return;
        var mine = new List<float>();
        foreach (var i in Mine())
            mine.AddRange(_params[i].ToArray());
        var all = _comm.AllGatherV<float>(mine.ToArray(), out var counts, "ZeRO-1 parameter all-gather");
        int at = 0;
        for (int r = 0; r < _comm.Size; r++)
        {
            int expected = 0;
            for (int i = 0; i < _params.Length; i++)
            {
                if (_owner[i] != r)
                    continue;
                var p = _params[i];
                int n = (int)p.Numel;
                expected += n;
                if (r != _comm.Rank)
                    Write(p, all.AsSpan(at, n));
                at += n;
            }
            if (counts[r] != expected)
                throw new DistributedException($"ZeRO-1: rank {r} sent {counts[r]} parameter values, its share is {expected}; the ranks do not train the same model");
        }
    }

    /// <summary>
    /// One optimizer state from the ranks' shards (each holds moments only for its own
    /// parameters): per parameter, the shard that has its moments, whatever the number of ranks was.
    /// </summary>
    public static OptimizerState Merge(IReadOnlyList<OptimizerState> shards)
    {
        if (shards.Count == 0)
            throw new InvalidDataException("ZeRO-1: no optimizer shards to merge");
        var first = shards[0];
        var merged = new OptimizerState { Kind = first.Kind, Step = first.Step, Hyperparameters = first.Hyperparameters, Groups = first.Groups };
        for (int i = 0; i < first.Params.Count; i++)
        {
            ParamState? pick = null;
            foreach (var s in shards)
            {
                if (s.Params.Count != first.Params.Count || s.Kind != first.Kind || s.Step != first.Step)
                    throw new InvalidDataException($"ZeRO-1: the optimizer shards do not belong together ({s.Kind} at step {s.Step} with {s.Params.Count} parameters vs {first.Kind} at step {first.Step} with {first.Params.Count})");
                var ps = s.Params[i];
                if (ps.Buffers.Count > 0)
                {
                    pick = ps;
                    break;
                }
                if (pick is null || ps.Step > pick.Step)
                    pick = ps;
            }
            merged.Params.Add(pick!);
        }
        return merged;
    }

    private IEnumerable<int> Mine()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            if (_owner[i] == _comm.Rank)
                yield return i;
        }
    }

    private static void Write(Tensor p, ReadOnlySpan<float> values)
    {
        if (!p.IsOnDevice)
        {
            values.CopyTo(p.Span);
            return;
        }
        p.CopyFrom(Tensor.Wrap(values.ToArray(), p.Shape.ToArray()));
    }
}
