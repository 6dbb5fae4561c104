namespace RlhfSharp.Tensors.Distributed;

/// <summary>How <see cref="Communicator.AllReduce{T}"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    Sum,
    Max,
    Min,
}

/// <summary>
/// The processes of a data-parallel run and the collectives between them: barrier, all-reduce
/// (sum, max, min), broadcast, all-gather(v), gather(v) to one rank and reduce-scatter, each
/// blocking, plus an all-reduce started in the background (<see cref="StartAllReduce"/>) so
/// gradients travel while the backward pass goes on. Every rank must call the same collectives
/// in the same order. A collective that does not complete within <see cref="Timeout"/> stops
/// the whole run with a message naming the rank that did not arrive; it never hangs silently.
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's rank, 0 … <see cref="Size"/> − 1.</summary>
    public abstract int Rank { get; }

    /// <summary>How many processes take part.</summary>
    public abstract int Size { get; }

    /// <summary>Rank 0: the one that writes the console, logs and checkpoints.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>How long a collective may wait for the other ranks before the run is stopped.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Waits until every rank has reached the barrier.</summary>
    public abstract void Barrier(string what = "barrier");

    /// <summary>Combines <paramref name="data"/> element-wise over the ranks, in place on every rank.</summary>
    public abstract void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce")
        where T : unmanaged;

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="data"/> to every rank.</summary>
    public abstract void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast")
        where T : unmanaged;

    /// <summary>Every rank's values, concatenated in rank order (the ranks may give different lengths); <paramref name="counts"/> says how many came from each.</summary>
    public abstract T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather")
        where T : unmanaged;

    /// <summary>On rank <paramref name="root"/>, every rank's values concatenated in rank order (with <paramref name="counts"/>); elsewhere an empty array.</summary>
    public abstract T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather")
        where T : unmanaged;

    /// <summary>
    /// Reduces <paramref name="input"/> (<see cref="Size"/> equal blocks) over the ranks and leaves
    /// block <see cref="Rank"/> of the result in <paramref name="output"/>.
    /// </summary>
    public abstract void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter")
        where T : unmanaged;

    /// <summary>
    /// Starts summing the first <paramref name="count"/> values of <paramref name="buffer"/> over
    /// the ranks and returns at once; the buffer must not be touched until <see cref="PendingReduction.Wait"/> returns.
    /// </summary>
    public abstract PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce");

    /// <summary>Stops every rank of the run at once with <paramref name="exitCode"/> (after an error on this rank).</summary>
    public abstract void Abort(int exitCode);

    /// <summary>The sum of <paramref name="value"/> over the ranks.</summary>
    public double Sum(double value, string what = "sum")
    {
        Span<double> one = [value];
        AllReduce(one, ReduceOp.Sum, what);
        return one[0];
    }

    /// <summary>The largest <paramref name="value"/> over the ranks.</summary>
    public double Max(double value, string what = "max")
    {
        Span<double> one = [value];
        AllReduce(one, ReduceOp.Max, what);
        return one[0];
    }

    /// <summary>Every rank's values, concatenated in rank order (equal lengths).</summary>
    public T[] AllGather<T>(ReadOnlySpan<T> mine, string what = "all-gather")
        where T : unmanaged
    {
        var all = AllGatherV(mine, out var counts, what);
        foreach (var c in counts)
        {
            if (c != mine.Length)
                throw new DistributedException($"{what}: ranks gave different lengths ({string.Join(", ", counts)}); every rank must give {mine.Length}");
        }
        return all;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A background all-reduce; <see cref="Wait"/> returns when the buffer holds the sum.</summary>
public abstract class PendingReduction
{
    public abstract void Wait();
}

/// <summary>A failure of the run's processes or of MPI itself (not of the user's input).</summary>
public sealed class DistributedException(string message) : Exception(message);

/// <summary>A collective or data-parallel setting that cannot work as configured (names the key or value).</summary>
public sealed class DistributedSetupException(string message) : Exception(message), IUserError;
