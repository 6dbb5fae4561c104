namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// Fixed-partition parallel loops over <see cref="Engine.Threads"/> threads. The index range is cut
/// into contiguous chunks whose boundaries depend only on the count and the thread count, so a
/// reduction written per chunk and combined in chunk order is deterministic. Chunks run on a small
/// set of persistent worker threads plus the calling thread. A body that calls back into
/// <see cref="ParallelFor"/> runs its inner loop inline (same chunks, in order), and concurrent
/// callers from different threads are safe: one of them gets the workers, the others fall back to
/// the .NET thread pool.
/// </summary>
public static class ParallelFor
{
    [ThreadStatic]
    private static bool _insideBody;

    // 1 while some caller owns the persistent workers.
    private static int _poolBusy;

    // i in [0, count) -> body(i), over min(Engine.Threads, count) contiguous chunks.
    public static void Run(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        RunChunks(count, (start, end) =>
        {
            for (int i = start; i < end; i++)
                body(i);
        });
    }

    // [0, count) -> body(start, end) for each of min(Engine.Threads, count) contiguous chunks;
    // chunk c covers [c*count/chunks, (c+1)*count/chunks).
    public static void RunChunks(int count, Action<int, int> body) =>
        RunChunks(count, Engine.Threads, body);

    // Same as RunChunks(count, body) with an explicit thread count (kernels read Engine.Threads once
    // per call and pass it down, so a concurrent change does not split one call two ways).
    internal static void RunChunks(int count, int threads, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "ParallelFor: count must be non-negative");
        if (count == 0)
            return;
        int chunks = ChunkCount(count, threads);
        if (chunks == 1)
        {
            body(0, count);
            return;
        }
        if (_insideBody)
        {
            // Nested call: the outer loop already uses the threads; run the same chunks inline.
            for (int c = 0; c < chunks; c++)
                body(ChunkStart(count, chunks, c), ChunkStart(count, chunks, c + 1));
            return;
        }
        if (Interlocked.CompareExchange(ref _poolBusy, 1, 0) == 0)
        {
            try
            {
                WorkerPool.Execute(new Job(count, chunks, body));
            }
            finally
            {
                Volatile.Write(ref _poolBusy, 0);
            }
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            bool was = _insideBody;
            _insideBody = true;
            try
            {
                body(ChunkStart(count, chunks, c), ChunkStart(count, chunks, c + 1));
            }
            finally
            {
                _insideBody = was;
            }
        });
    }

    // The number of chunks RunChunks uses: min(threads, count), at least 1.
    public static int ChunkCount(int count, int threads) => Math.Max(1, Math.Min(threads, count));

    // First index of chunk c when [0, count) is cut into `chunks` contiguous pieces.
    public static int ChunkStart(int count, int chunks, int c) => (int)((long)count * c / chunks);

    /// <summary>One parallel loop: chunks are claimed by index, so which thread runs a chunk varies
    /// but the chunk boundaries never do.</summary>
    private sealed class Job
    {
        private readonly int _count;
        private readonly int _chunks;
        private readonly Action<int, int> _body;
        private int _next;
        private int _pending;
        private Exception? _error;
        public readonly ManualResetEventSlim Done = new(false, spinCount: 2000);

        public Job(int count, int chunks, Action<int, int> body)
        {
            _count = count;
            _chunks = chunks;
            _body = body;
            _pending = chunks;
        }

        // Claims and runs chunks until none are left.
        public void Work()
        {
            bool was = _insideBody;
            _insideBody = true;
            try
            {
                int c;
                while ((c = Interlocked.Increment(ref _next) - 1) < _chunks)
                {
                    try
                    {
                        _body(ChunkStart(_count, _chunks, c), ChunkStart(_count, _chunks, c + 1));
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref _error, e, null);
                    }
                    if (Interlocked.Decrement(ref _pending) == 0)
                        Done.Set();
                }
            }
            finally
            {
                _insideBody = was;
            }
        }

        public int Chunks => _chunks;

        public void ThrowIfFailed()
        {
            if (_error is not null)
                throw new AggregateException("ParallelFor: a loop body threw", _error);
        }
    }

    /// <summary>Persistent background workers; used by one caller at a time (guarded by _poolBusy).</summary>
    private static class WorkerPool
    {
        private static readonly SemaphoreSlim Wake = new(0);
        private static readonly List<Thread> Workers = [];
        private static volatile Job? _current;

        public static void Execute(Job job)
        {
            int helpers = job.Chunks - 1;
            while (Workers.Count < helpers)
            {
                var t = new Thread(WorkerLoop) { IsBackground = true, Name = $"RlhfSharp worker {Workers.Count + 1}" };
                Workers.Add(t);
                t.Start();
            }
            _current = job;
            Wake.Release(helpers);
            job.Work();
            job.Done.Wait();
            _current = null;
            job.ThrowIfFailed();
        }

        private static void WorkerLoop()
        {
            while (true)
            {
                Wake.Wait();
                // A late wake-up may see the next job or none; both are harmless, since chunks are
                // claimed atomically and a finished job has none left.
                _current?.Work();
            }
        }
    }
}
