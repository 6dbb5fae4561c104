using System.Diagnostics;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Bench;

/// <summary>
/// Data-parallel training over MPI: the all-reduce on its own, and a whole train step on several
/// ranks. One process is one rank; under <c>mpirun -np N</c> the processes form an N-rank world.
/// Every figure is the slowest rank's, since a data-parallel step is only done when every rank is.
/// <para>
/// <c>dp --case allreduce</c>: median milliseconds of an in-place float all-reduce per size, with
/// the algorithm bandwidth (bytes / time) and the bus bandwidth (algbw × 2(N−1)/N, the figure
/// that is comparable across rank counts).
/// </para>
/// <para>
/// <c>dp --case step</c>: a Llama-shaped CausalLM (the same seed on every rank, so the weights
/// agree), one global batch of random tokens drawn identically everywhere, each rank training on
/// its contiguous share of the rows: forward, cross-entropy weighted by the rank's share, backward
/// with the gradients summed in buckets while it runs (<see cref="GradientSync"/>), AdamW.
/// </para>
/// </summary>
public static class DataParallelBench
{
    public const string Usage =
        "dp --case allreduce [--sizes-kib 4,64,1024,4096,16384,65536]\n"
        + "dp --case step [--hidden 256] [--layers 4] [--heads 4] [--vocab 2048] [--batch 16] [--seq 64] [--threads T] [--bucket-mb 25] [--no-overlap]\n"
        + "   alone (one rank) or under: mpirun -np N dotnet RlhfSharp.Bench.dll dp ...";

    public static readonly int[] DefaultSizesKib = [4, 64, 1024, 4096, 16384, 65536];

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        string kind = args.String("case") ?? throw new BenchUsageException("--case is required: allreduce or step");
        if (kind is not ("allreduce" or "step"))
            throw new BenchUsageException($"--case must be allreduce or step, got '{kind}'");
        var comm = World.Initialize();
        try
        {
            return kind == "allreduce" ? AllReduce(args, comm) : Step(args, comm);
        }
        finally
        {
            World.Shutdown();
        }
    }

    private static int AllReduce(BenchArgs args, Communicator comm)
    {
        var sizesKib = args.Ints("sizes-kib") ?? DefaultSizesKib;
        args.RejectUnknown();
        foreach (int kib in sizesKib)
        {
            long bytes = (long)kib * 1024;
            if (bytes / sizeof(float) > Array.MaxLength)
                throw new BenchUsageException($"--sizes-kib {kib} is more floats than one array holds");
            var data = GC.AllocateArray<float>((int)(bytes / sizeof(float)), pinned: true);

            // One checked sum first: every rank gives rank + 1, so each value must become N(N+1)/2.
            Array.Fill(data, comm.Rank + 1f);
            comm.AllReduce<float>(data);
            float expected = comm.Size * (comm.Size + 1) / 2f;
            if (data[0] != expected || data[^1] != expected)
                throw new InvalidOperationException($"all-reduce of {bytes} bytes gave {data[0]} … {data[^1]}, expected {expected}");

            var t = SlowestRank(comm, () => comm.AllReduce<float>(data), reset: () => Array.Fill(data, 1f), targetSeconds: 1.0);
            double seconds = t.MedianMs / 1000;
            double algbw = bytes / seconds / 1e9;
            if (comm.IsMain)
            {
                new JsonLine()
                    .Add("case", "allreduce")
                    .Add("ranks", comm.Size)
                    .Add("bytes", bytes)
                    .Add("ms", t.MedianMs, 4)
                    .Add("best_ms", t.BestMs, 4)
                    .Add("runs", t.Runs)
                    .Add("algbw_gbs", algbw)
                    .Add("busbw_gbs", algbw * 2 * (comm.Size - 1) / comm.Size)
                    .WriteLine();
            }
        }
        return 0;
    }

    private static int Step(BenchArgs args, Communicator comm)
    {
        int hidden = args.Ints("hidden")?[0] ?? 256;
        int layers = args.Ints("layers")?[0] ?? 4;
        int heads = args.Ints("heads")?[0] ?? 4;
        int vocab = args.Ints("vocab")?[0] ?? 2048;
        int batch = args.Ints("batch")?[0] ?? 16;
        int seq = args.Ints("seq")?[0] ?? 64;
        int threads = args.Ints("threads")?[0] ?? Engine.Threads;
        int bucketMb = args.Ints("bucket-mb")?[0] ?? 25;
        bool overlap = !args.Flag("no-overlap");
        args.RejectUnknown();
        if (batch < comm.Size)
            throw new BenchUsageException($"--batch {batch} is the global batch, shared over {comm.Size} ranks; it must be at least {comm.Size}");
        if (hidden % heads != 0)
            throw new BenchUsageException($"--hidden {hidden} must be a multiple of --heads {heads}");
        Engine.Threads = threads;

        var cfg = new ModelConfig
        {
            ModelType = "llama",
            VocabSize = vocab,
            HiddenSize = hidden,
            NumLayers = layers,
            NumHeads = heads,
            NumKeyValueHeads = Math.Max(1, heads / 2),
            IntermediateSize = hidden * 3,
            MaxPositions = seq,
            TieWordEmbeddings = true,
        };
        var model = new CausalLM(cfg, new Generator(1));
        var parameters = model.TrainableParameters().ToList();
        var opt = new AdamW(parameters, lr: 1e-3f);
        // With one rank Begin/Finish do nothing, as in a single-process run.
        using var sync = new GradientSync(parameters, comm, (long)bucketMb << 20, overlap);

        // The global batch is the same on every rank (same seed); each rank keeps its rows.
        var ids = new Generator(2).Uniform([batch, seq], 0, vocab - 1).ToInt32();
        var (start, rows) = Share(batch, comm.Rank, comm.Size);
        var local = ids.Narrow(0, start, rows).Contiguous();
        var targets = local.Narrow(1, 1, seq - 1).Contiguous().Reshape(-1);
        float weight = (float)rows / batch;

        var stats = new List<GradientSyncStats>();
        void StepOnce()
        {
            opt.ZeroGrad();
            sync.Begin();
            var logits = model.Forward(local);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, seq - 1).Reshape(-1, vocab), targets) * weight;
            loss.Backward();
            sync.Finish();
            opt.Step();
        }
        var t = SlowestRank(comm, StepOnce, reset: null, targetSeconds: 3.0, maxRuns: 30, afterRun: () => stats.Add(sync.LastStats));

        // Of the timed steps: exposed communication is the time Finish waited for the sums after
        // the backward pass (median per rank, then the slowest rank); buckets started during the
        // backward pass, the fewest on any rank in any step.
        var timed = stats.Skip(stats.Count - t.Runs).ToList();
        var waitMs = timed.Select(s => s.WaitSeconds * 1000).Order().ToArray();
        double exposed = comm.Max(waitMs[waitMs.Length / 2], "exposed communication");
        Span<int> started = [timed.Min(s => s.StartedDuringBackward)];
        comm.AllReduce(started, ReduceOp.Min, "buckets started");
        if (comm.IsMain)
        {
            long tokens = (long)batch * seq;
            new JsonLine()
                .Add("case", "dp_step")
                .Add("ranks", comm.Size)
                .Add("threads", threads)
                .Add("params", model.ParameterCount())
                .Add("batch", batch)
                .Add("seq", seq)
                .Add("ms", t.MedianMs)
                .Add("best_ms", t.BestMs)
                .Add("runs", t.Runs)
                .Add("tokens_per_s", tokens / (t.MedianMs / 1000))
                .Add("buckets", comm.Size > 1 ? sync.BucketCount : 0)
                .Add("started_during_backward", started[0])
                .Add("exposed_comm_ms", exposed)
                .Add("overlap", overlap && comm.Size > 1)
                .WriteLine();
        }
        return 0;
    }

    /// <summary>Rank <paramref name="rank"/>'s contiguous share of <paramref name="total"/> rows (the first total mod N ranks get one more).</summary>
    public static (int Start, int Count) Share(int total, int rank, int size)
    {
        int per = total / size, extra = total % size;
        return ((rank * per) + Math.Min(rank, extra), per + (rank < extra ? 1 : 0));
    }

    // Times `action` on every rank at once (a barrier before each run) and keeps, per run, the
    // slowest rank's time. The stopping rule reads only those shared times, so every rank runs
    // the same number of times. Warm-up: 2 runs and ~0.2 s; then at least `minRuns` and
    // ~`targetSeconds` (at most `maxRuns`). `reset` runs untimed before each run.
    private static Timings SlowestRank(
        Communicator comm, Action action, Action? reset, double targetSeconds, int minRuns = 5, int maxRuns = 200, Action? afterRun = null)
    {
        double warm = 0;
        for (int i = 0; i < 2 || warm < 0.2; i++)
            warm += TimeOnce(comm, action, reset, afterRun) / 1000;
        var times = new List<double>();
        double total = 0;
        while (times.Count < minRuns || (times.Count < maxRuns && total < targetSeconds))
        {
            double ms = TimeOnce(comm, action, reset, afterRun);
            times.Add(ms);
            total += ms / 1000;
        }
        times.Sort();
        return new Timings(times[0], times[times.Count / 2], times.Count);
    }

    private static double TimeOnce(Communicator comm, Action action, Action? reset, Action? afterRun)
    {
        reset?.Invoke();
        comm.Barrier("timing barrier");
        long t0 = Stopwatch.GetTimestamp();
        action();
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        afterRun?.Invoke();
        return comm.Max(ms, "timing");
    }
}
