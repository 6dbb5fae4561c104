using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

/// <summary>A body for <see cref="Partition.For{TBody}"/>: items [start, end) as chunk number <c>chunk</c>.</summary>
internal interface IPartitionBody
{
    void Run(int chunk, int start, int end);
}

/// <summary>
/// Splits independent work items into a fixed number of contiguous chunks (one per
/// <see cref="Engine.Threads"/>), so which thread computes an item never changes its result.
/// Small jobs run inline.
/// </summary>
internal static class Partition
{
    /// <summary>Below this many estimated flops a job is not worth a thread hop.</summary>
    private const long MinParallelWork = 1 << 15;

    /// <summary>The number of chunks <see cref="For"/> uses for <paramref name="items"/> items.</summary>
    public static int Chunks(int items, long workPerItem)
    {
        int threads = Engine.Threads;
        if (threads <= 1 || items <= 1 || (long)items * workPerItem < MinParallelWork)
            return 1;
        return Math.Min(threads, items);
    }

    /// <summary>Runs body(chunk, start, end) over [0, items) in <see cref="Chunks"/> chunks.</summary>
    public static void For(int items, long workPerItem, Action<int, int, int> body)
    {
        int chunks = Chunks(items, workPerItem);
        if (chunks == 1)
        {
            if (items > 0)
                body(0, 0, items);
            return;
        }
        // One chunk per ParallelFor index, on its persistent workers (no thread-pool hop).
        StructLoop<ChunkItems>.RunChunks(chunks, chunks, new ChunkItems(items, chunks, body));
    }

    /// <summary>
    /// <see cref="For(int, long, Action{int, int, int})"/> for a struct body: the ops that run on
    /// every training step use it, since a lambda capturing the op's locals allocates a closure and
    /// a delegate on each call.
    /// </summary>
    public static void For<TBody>(int items, long workPerItem, in TBody body) where TBody : struct, IPartitionBody
    {
        int chunks = Chunks(items, workPerItem);
        if (chunks == 1)
        {
            if (items > 0)
                body.Run(0, 0, items);
            return;
        }
        StructLoop<StructChunkItems<TBody>>.RunChunks(chunks, chunks, new StructChunkItems<TBody>(items, chunks, body));
    }

    // Chunks [c0, c1) of `items` items cut into `chunks` pieces, for a struct body.
    private readonly struct StructChunkItems<TBody>(int items, int chunks, TBody body) : IChunkBody where TBody : struct, IPartitionBody
    {
        public void Run(int c0, int c1)
        {
            for (int c = c0; c < c1; c++)
            {
                int start = (int)((long)items * c / chunks);
                int end = (int)((long)items * (c + 1) / chunks);
                body.Run(c, start, end);
            }
        }
    }

    // Chunks [c0, c1) of `items` items cut into `chunks` pieces.
    private readonly struct ChunkItems(int items, int chunks, Action<int, int, int> body) : IChunkBody
    {
        public void Run(int c0, int c1)
        {
            for (int c = c0; c < c1; c++)
            {
                int start = (int)((long)items * c / chunks);
                int end = (int)((long)items * (c + 1) / chunks);
                body(c, start, end);
            }
        }
    }
}
