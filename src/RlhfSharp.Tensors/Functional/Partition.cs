using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

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
        ParallelFor.RunChunks(chunks, chunks, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                int start = (int)((long)items * c / chunks);
                int end = (int)((long)items * (c + 1) / chunks);
                body(c, start, end);
            }
        });
    }
}
