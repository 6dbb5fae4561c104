using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace RlhfSharp.Tensors.Distributed;

/// <summary>
/// The ranks of an MPI job (<c>mpirun -np N</c>), over our own binding of Open MPI. One thread
/// of this process makes every MPI call (MPI is initialised on it, so the library needs no
/// thread support beyond "funneled"): the training thread hands it collectives and either waits
/// (the blocking ones) or goes on computing (<see cref="StartAllReduce"/>), which is how
/// gradients travel while the backward pass runs.
/// <para>
/// Each collective is started non-blocking and polled. A rank that has waited a while tells the
/// others which collective it is waiting in (a small point-to-point note); when the wait passes
/// <see cref="Communicator.Timeout"/>, the rank reads the notes that arrived, names the ranks
/// that never reached the collective, and stops the whole job with <see cref="AbortExitCode"/>.
/// </para>
/// </summary>
public sealed unsafe class MpiCommunicator : Communicator
{
    /// <summary>The exit code of every rank when a collective times out.</summary>
    public const int AbortExitCode = 4;

    private const int ArrivalTag = 0x5EC0;

    // All-reduces and broadcasts go in pieces of at most 16 MiB: Open MPI takes a temporary buffer
    // the size of the message, and glibc maps one of 32 MiB or more afresh on every call, whose
    // first touch costs more than the transfer (two ranks on one machine: 231 ms for 64 MiB in one
    // piece, 32 ms in four).
    private const int MaxChunkBytes = 16 << 20;

    private readonly MpiLibrary _mpi;
    private readonly BlockingCollection<Job> _jobs = [];
    private readonly Thread _thread;
    private readonly long* _notes; // ring of sequence numbers sent as arrival notes
    private readonly long[] _lastSeen;
    private long _sequence;
    private bool _disposed;

    private MpiCommunicator(MpiLibrary mpi, int rank, int size, Thread thread)
    {
        _mpi = mpi;
        Rank = rank;
        Size = size;
        _thread = thread;
        _notes = (long*)NativeMemory.AllocZeroed(256, sizeof(long));
        _lastSeen = new long[size];
    }

    public override int Rank { get; }

    public override int Size { get; }

    /// <summary>True when this process was started by an MPI launcher (Open MPI's mpirun, or PMIx/PMI).</summary>
    public static bool LaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_RANK") is not null;

    /// <summary>Loads MPI, initialises it on the communication thread and returns this process's view of the job.</summary>
    public static MpiCommunicator Start()
    {
        var mpi = MpiLibrary.Load();
        var ready = new TaskCompletionSource<(int Rank, int Size)>(TaskCreationOptions.RunContinuationsAsynchronously);
        MpiCommunicator? self = null;
        var gate = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                int provided = 0, already = 0;
                mpi.Check(mpi.Initialized(&already), "MPI_Initialized");
                if (already == 0)
                    mpi.Check(mpi.InitThread(null, null, MpiLibrary.ThreadFunneled, &provided), "MPI_Init_thread");
                // Errors come back as return codes (checked), not as a silent abort inside the library.
                mpi.Check(mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
                int rank = 0, size = 0;
                mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
                mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
                ready.SetResult((rank, size));
            }
            catch (Exception e)
            {
                ready.SetException(e);
                return;
            }
            gate.Wait();
            self!.Serve();
        })
        {
            IsBackground = true,
            Name = "mpi",
        };
        thread.Start();
        var (r, s) = ready.Task.GetAwaiter().GetResult();
        self = new MpiCommunicator(mpi, r, s, thread);
        gate.Set();
        return self;
    }

    public override void Barrier(string what = "barrier") =>
        Run(what, req => _mpi.Ibarrier(_mpi.CommWorld, req), "MPI_Ibarrier");

    public override void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce")
    {
        var type = DataType<T>();
        var mpiOp = Op(op);
        int chunk = MaxChunkBytes / sizeof(T);
        for (int start = 0; start < data.Length; start += chunk)
        {
            int count = Math.Min(chunk, data.Length - start);
            fixed (T* p = data.Slice(start, count))
            {
                nint buffer = (nint)p;
                Run(what, req => _mpi.Iallreduce(MpiLibrary.InPlace, (void*)buffer, count, type, mpiOp, _mpi.CommWorld, req), "MPI_Iallreduce");
            }
        }
    }

    public override void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast")
    {
        CheckRank(root, what);
        var type = DataType<T>();
        int chunk = MaxChunkBytes / sizeof(T);
        for (int start = 0; start < data.Length; start += chunk)
        {
            int count = Math.Min(chunk, data.Length - start);
            fixed (T* p = data.Slice(start, count))
            {
                nint buffer = (nint)p;
                Run(what, req => _mpi.Ibcast((void*)buffer, count, type, root, _mpi.CommWorld, req), "MPI_Ibcast");
            }
        }
    }

    public override T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather") =>
        Gather(mine, out counts, root: -1, what);

    public override T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather")
    {
        CheckRank(root, what);
        return Gather(mine, out counts, root, what);
    }

    // Every rank's values in rank order: on every rank (root −1, all-gather) or on the root alone (gather).
    private T[] Gather<T>(ReadOnlySpan<T> mine, out int[] counts, int root, string what)
        where T : unmanaged
    {
        counts = GatherCounts(mine.Length, what);
        var displs = Displacements(counts, what);
        var all = root < 0 || Rank == root ? new T[displs[^1] + counts[^1]] : [];
        var type = DataType<T>();
        fixed (T* send = mine)
        fixed (T* recv = all)
        fixed (int* c = counts)
        fixed (int* d = displs)
        {
            nint s = (nint)send, r = (nint)recv, cp = (nint)c, dp = (nint)d;
            int n = mine.Length;
            if (root < 0)
                Run(what, req => _mpi.Iallgatherv((void*)s, n, type, (void*)r, (int*)cp, (int*)dp, type, _mpi.CommWorld, req), "MPI_Iallgatherv");
            else
                Run(what, req => _mpi.Igatherv((void*)s, n, type, (void*)r, (int*)cp, (int*)dp, type, root, _mpi.CommWorld, req), "MPI_Igatherv");
        }
        return all;
    }

    public override void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter")
    {
        if (input.Length != (long)output.Length * Size)
            throw new ArgumentException($"{what}: input has {input.Length} values; it must be {Size} blocks of the output's {output.Length}");
        var type = DataType<T>();
        var mpiOp = Op(op);
        fixed (T* send = input)
        fixed (T* recv = output)
        {
            nint s = (nint)send, r = (nint)recv;
            int n = output.Length;
            Run(what, req => _mpi.IreduceScatterBlock((void*)s, (void*)r, n, type, mpiOp, _mpi.CommWorld, req), "MPI_Ireduce_scatter_block");
        }
    }

    public override PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce")
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, buffer.Length);
        // One pinning for the whole buffer, freed by the last piece's job.
        var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        nint p = handle.AddrOfPinnedObject();
        int chunk = MaxChunkBytes / sizeof(float);
        var pieces = new List<Job>();
        for (int start = 0; start < count || pieces.Count == 0; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            nint at = p + (start * sizeof(float));
            bool last = start + chunk >= count;
            pieces.Add(new Job(what, req => _mpi.Iallreduce(MpiLibrary.InPlace, (void*)at, n, _mpi.Float, _mpi.OpSum, _mpi.CommWorld, req), "MPI_Iallreduce", last ? handle : default));
        }
        foreach (var job in pieces)
            Submit(job);
        return pieces.Count == 1 ? pieces[0] : new AllOf(pieces);
    }

    public override void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _mpi.Abort(_mpi.CommWorld, exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>Finalises MPI on its thread (every rank must get here, as with any collective).</summary>
    public override void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _jobs.CompleteAdding();
        _thread.Join();
        base.Dispose();
    }

    private void Run(string what, StartFn start, string call)
    {
        var job = new Job(what, start, call, default);
        Submit(job);
        job.Wait();
    }

    private void Submit(Job job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _jobs.Add(job);
    }

    // The communication thread: runs the collectives in the order they were handed over.
    private void Serve()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            try
            {
                Execute(job);
            }
            catch (Exception e)
            {
                job.Error = e;
            }
            finally
            {
                if (job.Handle.IsAllocated)
                    job.Handle.Free();
                job.Done.Set();
            }
        }
        int finalized = 0;
        _mpi.Finalized(&finalized);
        if (finalized == 0)
            _mpi.Finalize();
    }

    private void Execute(Job job)
    {
        long seq = ++_sequence;
        IntPtr request = IntPtr.Zero;
        _mpi.Check(job.Start(&request), job.Call);
        var clock = Stopwatch.StartNew();
        var noteAfter = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, Timeout.Ticks / 4));
        bool noted = false;
        while (true)
        {
            int flag = 0;
            _mpi.Check(_mpi.Test(&request, &flag, null), "MPI_Test");
            if (flag != 0)
                break;
            var waited = clock.Elapsed;
            if (!noted && waited > noteAfter)
            {
                Note(seq);
                noted = true;
            }
            if (waited > Timeout)
                Stall(seq, job.What, waited);
            if (waited.TotalMilliseconds < 100)
                Thread.Yield();
            else
                Thread.Sleep(1);
        }
        if (noted)
            ReadNotes();
    }

    // Tells every other rank that this one waits in collective `seq`.
    private void Note(long seq)
    {
        long* slot = _notes + (seq & 255);
        *slot = seq;
        _lastSeen[Rank] = seq;
        for (int peer = 0; peer < Size; peer++)
        {
            if (peer == Rank)
                continue;
            IntPtr req;
            if (_mpi.Isend(slot, 1, _mpi.Int64, peer, ArrivalTag, _mpi.CommWorld, &req) == MpiLibrary.Success)
                _mpi.RequestFree(&req);
        }
    }

    private void ReadNotes()
    {
        while (true)
        {
            int flag = 0;
            MpiStatus status;
            if (_mpi.Iprobe(MpiLibrary.AnySource, ArrivalTag, _mpi.CommWorld, &flag, &status) != MpiLibrary.Success || flag == 0)
                return;
            long value = 0;
            MpiStatus received;
            if (_mpi.Recv(&value, 1, _mpi.Int64, status.Source, ArrivalTag, _mpi.CommWorld, &received) != MpiLibrary.Success)
                return;
            if (status.Source >= 0 && status.Source < Size)
                _lastSeen[status.Source] = Math.Max(_lastSeen[status.Source], value);
        }
    }

    // A collective waited past the timeout: name the ranks that never reached it and stop every rank.
    private void Stall(long seq, string what, TimeSpan waited)
    {
        ReadNotes();
        var missing = new List<string>();
        for (int r = 0; r < Size; r++)
        {
            if (r != Rank && _lastSeen[r] < seq)
                missing.Add(r.ToString(CultureInfo.InvariantCulture));
        }
        string who = missing.Count switch
        {
            0 => "every rank reached it, so the transfer itself is stuck",
            1 => $"rank {missing[0]} never reached it (stopped, hung or dead)",
            _ => $"ranks {string.Join(", ", missing)} never reached it (stopped, hung or dead)",
        };
        Console.Out.Flush();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rlhf: rank {Rank}: {what} (collective #{seq}) did not complete within {Timeout.TotalSeconds:0.#} s (waited {waited.TotalSeconds:0.#} s); {who}. Stopping every rank (exit code {AbortExitCode}). Raise dist_timeout_s if a rank legitimately needs longer (a slow checkpoint, say)."));
        Console.Error.Flush();
        _mpi.Abort(_mpi.CommWorld, AbortExitCode);
        Environment.Exit(AbortExitCode);
    }

    private int[] GatherCounts(int mine, string what)
    {
        var counts = new int[Size];
        counts[Rank] = mine;
        // Each rank fills its own slot; a sum gathers them.
        AllReduce<int>(counts, ReduceOp.Sum, what + " (lengths)");
        return counts;
    }

    private static int[] Displacements(int[] counts, string what)
    {
        var displs = new int[counts.Length];
        long at = 0;
        for (int r = 0; r < counts.Length; r++)
        {
            if (at > int.MaxValue)
                throw new DistributedException($"{what}: more than {int.MaxValue} values in all; gather in parts");
            displs[r] = (int)at;
            at += counts[r];
        }
        if (at > int.MaxValue)
            throw new DistributedException($"{what}: more than {int.MaxValue} values in all; gather in parts");
        return displs;
    }

    private void CheckRank(int root, string what)
    {
        if (root < 0 || root >= Size)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"{what}: the root must be a rank of 0 … {Size - 1}");
    }

    private IntPtr DataType<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return _mpi.Float;
        if (typeof(T) == typeof(double)) return _mpi.Double;
        if (typeof(T) == typeof(int)) return _mpi.Int32;
        if (typeof(T) == typeof(long)) return _mpi.Int64;
        if (typeof(T) == typeof(byte)) return _mpi.Byte;
        throw new NotSupportedException($"collectives carry float, double, int, long or byte values, not {typeof(T).Name}");
    }

    private IntPtr Op(ReduceOp op) => op switch
    {
        ReduceOp.Sum => _mpi.OpSum,
        ReduceOp.Max => _mpi.OpMax,
        ReduceOp.Min => _mpi.OpMin,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    private delegate int StartFn(IntPtr* request);

    private sealed class AllOf(List<Job> jobs) : PendingReduction
    {
        public override void Wait()
        {
            foreach (var job in jobs)
                job.Wait();
        }
    }

    private sealed class Job(string what, StartFn start, string call, GCHandle handle) : PendingReduction
    {
        public string What { get; } = what;

        public StartFn Start { get; } = start;

        public string Call { get; } = call;

        public GCHandle Handle { get; } = handle;

        public ManualResetEventSlim Done { get; } = new();

        public Exception? Error { get; set; }

        public override void Wait()
        {
            Done.Wait();
            if (Error is { } e)
                throw new DistributedException($"{What}: {e.Message}");
        }
    }
}
