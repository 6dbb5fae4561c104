namespace RlhfSharp.Tensors.Distributed;

/// <summary>The run of one process: every collective leaves the data as it is.</summary>
public sealed class SingleProcessCommunicator : Communicator
{
    public static readonly SingleProcessCommunicator Instance = new();

    public override int Rank => 0;

    public override int Size => 1;

    public override void Barrier(string what = "barrier")
    {
    }

    public override void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce")
    {
    }

    public override void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast")
    {
        if (root != 0)
            throw new ArgumentOutOfRangeException(nameof(root), root, "a run of one process has only rank 0");
    }

    public override T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather")
    {
        counts = [mine.Length];
        return mine.ToArray();
    }

    public override T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather")
    {
        counts = [mine.Length];
        return mine.ToArray();
    }

    public override void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter")
    {
        if (input.Length != output.Length)
            throw new ArgumentException($"{what}: input has {input.Length} values, output {output.Length}; with one rank they must be equal");
        input.CopyTo(output);
    }

    public override PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce") => Done.Instance;

    public override void Abort(int exitCode) => Environment.Exit(exitCode);

    private sealed class Done : PendingReduction
    {
        public static readonly Done Instance = new();

        public override void Wait()
        {
        }
    }
}
