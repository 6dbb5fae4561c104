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
                WorkerPool.Execute(count, chunks, body);
            }
            finally
            {
                Volatile.Write(ref _poolBusy, 0);
            }
            return;
        }
        OnThreadPool(count, chunks, body);
    }

    // Another caller has the workers: the .NET thread pool runs this loop (apart, so that its
    // closure is allocated only here).
    private static void OnThreadPool(int count, int chunks, Action<int, int> body)
    {
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

    /// <summary>
    /// The loop the workers run, one object reused for every loop: chunks are claimed by index, so
    /// which thread runs a chunk varies but the chunk boundaries never do. A claim is a
    /// compare-and-swap on (loop number, next chunk) packed in one 64-bit word, so a worker that
    /// arrives late, after its loop ended and the next one began, cannot claim a chunk of the new
    /// loop under the old one's count or body.
    /// </summary>
    private sealed class Job
    {
        private int _count;
        private int _chunks;
        private Action<int, int>? _body;
        private long _claim; // loop tag << 32 | next chunk index
        private int _pending;
        private Exception? _error;

        public int Chunks => _chunks;

        // The loop number's low 31 bits: a worker would have to be 2^31 loops late to mistake one loop for another.
        private static long Tag(long loop) => loop & 0x7FFFFFFF;

        // Sets up loop number `loop`; the claim word is written last, publishing the rest.
        public void Start(long loop, int count, int chunks, Action<int, int> body)
        {
            _count = count;
            _chunks = chunks;
            _body = body;
            _error = null;
            Volatile.Write(ref _pending, chunks);
            Volatile.Write(ref _claim, Tag(loop) << 32);
        }

        // Claims and runs chunks of loop `loop` until none are left.
        public void Work(long loop)
        {
            bool was = _insideBody;
            _insideBody = true;
            try
            {
                while (true)
                {
                    long claim = Volatile.Read(ref _claim);
                    if (claim >> 32 != Tag(loop))
                        return;
                    int c = (int)(claim & 0xFFFFFFFF);
                    if (c >= _chunks)
                        return;
                    if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim)
                        continue;
                    try
                    {
                        _body!(ChunkStart(_count, _chunks, c), ChunkStart(_count, _chunks, c + 1));
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

        // Waits for the chunks other threads claimed: they are short, so spin, then yield.
        public void WaitDone()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                spin.SpinOnce(sleep1Threshold: -1);
        }

        // Ends the loop: drops the body (so its closure can be collected) and rethrows a failure.
        public void Finish()
        {
            _body = null;
            var error = _error;
            _error = null;
            if (error is not null)
                throw new AggregateException("ParallelFor: a loop body threw", error);
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
        private static readonly Job Shared = new();
        private static long _generation;
        private static int _sleepers;

        public static void Execute(int count, int chunks, Action<int, int> body)
        {
            int helpers = chunks - 1;
            while (Workers.Count < helpers)
            {
                var t = new Thread(WorkerLoop) { IsBackground = true, Name = $"RlhfSharp worker {Workers.Count + 1}" };
                Workers.Add(t);
                t.Start();
            }
            long loop = Interlocked.Increment(ref _generation);
            Shared.Start(loop, count, chunks, body);
            int sleeping = Volatile.Read(ref _sleepers);
            if (sleeping > 0)
                Wake.Release(Math.Min(sleeping, helpers));
            Shared.Work(loop);
            Shared.WaitDone();
            Shared.Finish();
        }

        private static void WorkerLoop()
        {
            long seen = Volatile.Read(ref _generation);
            while (true)
            {
                long generation = Volatile.Read(ref _generation);
                if (generation != seen)
                {
                    seen = generation;
                    // A late look may find the loop finished or a newer one running; Work claims
                    // only chunks of the loop it names, and returns at once for any other.
                    Shared.Work(generation);
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
