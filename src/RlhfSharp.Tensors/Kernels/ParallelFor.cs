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
                    Interlocked.Decrement(ref _pending);
                }
            }
            finally
            {
                _insideBody = was;
            }
        }

        public int Chunks => _chunks;

        // Waits for the chunks other threads claimed: they are short, so spin, then yield.
        public void WaitDone()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                spin.SpinOnce(sleep1Threshold: -1);
        }

        public void ThrowIfFailed()
        {
            if (_error is not null)
                throw new AggregateException("ParallelFor: a loop body threw", _error);
        }
    }

    /// <summary>
    /// Persistent background workers; used by one caller at a time (guarded by _poolBusy). A worker
    /// that finished a loop watches for the next one for a short while before it sleeps, so the
    /// back-to-back loops of a training step start without a kernel wake-up each.
    /// </summary>
    private static class WorkerPool
    {
        // How long an idle worker keeps watching for the next loop before it sleeps.
        private static readonly long WatchTicks = System.Diagnostics.Stopwatch.Frequency / 20_000; // 50 µs

        private static readonly SemaphoreSlim Wake = new(0);
        private static readonly List<Thread> Workers = [];
        private static Job? _current;
        private static int _generation;
        private static int _sleepers;

        public static void Execute(Job job)
        {
            int helpers = job.Chunks - 1;
            while (Workers.Count < helpers)
            {
                var t = new Thread(WorkerLoop) { IsBackground = true, Name = $"RlhfSharp worker {Workers.Count + 1}" };
                Workers.Add(t);
                t.Start();
            }
            Volatile.Write(ref _current, job);
            Interlocked.Increment(ref _generation);
            int sleeping = Volatile.Read(ref _sleepers);
            if (sleeping > 0)
                Wake.Release(Math.Min(sleeping, helpers));
            job.Work();
            job.WaitDone();
            Volatile.Write(ref _current, null);
            job.ThrowIfFailed();
        }

        private static void WorkerLoop()
        {
            int seen = Volatile.Read(ref _generation);
            while (true)
            {
                int generation = Volatile.Read(ref _generation);
                if (generation != seen)
                {
                    seen = generation;
                    // A late look may find the next loop or none; both are harmless, since chunks
                    // are claimed atomically and a finished loop has none left.
                    Volatile.Read(ref _current)?.Work();
                    continue;
                }
                // Watch with SpinWait, which yields the core to other runnable threads after a few
                // rounds, so a busy machine loses little to the watching.
                bool arrived = false;
                long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + WatchTicks;
                var spin = new SpinWait();
                while (!arrived && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    arrived = Volatile.Read(ref _generation) != seen;
                }
                if (arrived)
                    continue;
                Interlocked.Increment(ref _sleepers);
                // A loop published between the last look and the increment finds no sleeper and
                // wakes nobody; its caller runs every chunk itself, and this worker takes the next.
                if (Volatile.Read(ref _generation) == seen)
                    Wake.Wait();
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }
}
