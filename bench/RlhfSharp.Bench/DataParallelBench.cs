using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
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
/// <para>
/// <c>dp-suite</c> (<see cref="Suite"/>) runs both cases on one rank and on several
/// next to PyTorch's DistributedDataParallel on gloo, one run after the other, and prints a table.
/// </para>
/// <para>
/// How to run: <c>dotnet run -c Release --project bench/RlhfSharp.Bench -- dp-suite</c> from the
/// repository root. It needs Open MPI's <c>mpirun</c> on PATH (<c>scripts/mpi-setup.sh</c>
/// installs it) and the PyTorch peer (<c>bench/peers/install.sh</c>); it starts
/// <c>mpirun --allow-run-as-root --oversubscribe --bind-to none -np N dotnet RlhfSharp.Bench.dll dp …</c>
/// and <c>bench/peers/torch_dp.py</c> itself, and takes the model and size options of
/// <c>dp</c> (<c>dp-suite --help</c>). A single case by hand:
/// <c>mpirun -np 2 dotnet bench/RlhfSharp.Bench/bin/Release/net10.0/RlhfSharp.Bench.dll dp --case step --threads 1</c>.
/// Nothing else should run on the machine meanwhile: the ranks share its cores, and the table
/// ends with the load average before and after.
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

        var cfg = TrainStepBench.LlamaShape(hidden, layers, heads, vocab, seq);
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
    public const string SuiteUsage =
        "dp-suite [--ranks 2] [--sizes-kib 4,64,1024,4096,16384,65536] [--hidden 256] [--layers 4] [--heads 4] [--vocab 2048] [--batch 16] [--seq 64] [--bucket-mb 25]\n"
        + "   runs `dp` on 1 and N ranks (it starts mpirun itself) and the PyTorch gloo peer, one after the other; prints the JSON lines, then a table";

    // The options of `dp --case step` that the suite passes on to both sides, with their defaults.
    private static readonly (string Name, int Default)[] StepOptions =
        [("hidden", 256), ("layers", 4), ("heads", 4), ("vocab", 2048), ("batch", 16), ("seq", 64), ("bucket-mb", 25)];

    /// <summary>
    /// `dp-suite`: ours and PyTorch's all-reduce on N ranks, and the train step on 1 rank × N
    /// threads, N ranks × 1 thread (gradients summed during the backward pass, and after it),
    /// one run at a time so they do not compete for the cores. Launches <c>mpirun</c> itself.
    /// </summary>
    public static int Suite(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(SuiteUsage);
            return 0;
        }
        int ranks = args.Ints("ranks")?[0] ?? 2;
        var sizes = args.Ints("sizes-kib") ?? DefaultSizesKib;
        var step = StepOptions.Select(o => (o.Name, Value: args.Ints(o.Name)?[0] ?? o.Default)).ToList();
        args.RejectUnknown();
        if (ranks < 2)
            throw new BenchUsageException($"--ranks {ranks}: the suite compares 1 rank with N ranks, so N must be at least 2");
        if (MpiCommunicator.LaunchedByMpi)
            throw new BenchUsageException("dp-suite starts mpirun itself; run it as one plain process, not under mpirun");
        string mpirun = FindOnPath("mpirun") ?? throw new BenchUsageException(
            $"mpirun is not on PATH; install Open MPI with: sudo bash {RepoPath("scripts/mpi-setup.sh")}");
        TorchPeer.EnsureAvailable("dp-suite");
        string peer = Path.Combine(TorchPeer.PeersDirectory(), "torch_dp.py");
        string load = LoadAverage();

        string sizeList = string.Join(',', sizes.Select(k => k.ToString(CultureInfo.InvariantCulture)));
        var stepArgs = step.SelectMany(o => new[] { "--" + o.Name, o.Value.ToString(CultureInfo.InvariantCulture) }).ToArray();
        string n = ranks.ToString(CultureInfo.InvariantCulture);

        var oursReduce = Ours(mpirun, ranks, ["--case", "allreduce", "--sizes-kib", sizeList], $"ours all-reduce, {ranks} ranks");
        var torchReduce = Torch(peer, ["--case", "allreduce", "--ranks", n, "--threads", "1", "--sizes-kib", sizeList], 1, $"torch gloo all-reduce, {ranks} ranks");
        var ours1 = Ours(mpirun, 1, ["--case", "step", "--threads", n, .. stepArgs], $"ours step, 1 rank x {ranks} threads").Single();
        var oursN = Ours(mpirun, ranks, ["--case", "step", "--threads", "1", .. stepArgs], $"ours step, {ranks} ranks x 1 thread").Single();
        var oursSerial = Ours(mpirun, ranks, ["--case", "step", "--threads", "1", "--no-overlap", .. stepArgs], $"ours step, {ranks} ranks x 1 thread, no overlap").Single();
        var torch1 = Torch(peer, ["--case", "step", "--ranks", "1", "--threads", n, .. stepArgs], ranks, $"torch step, 1 rank x {ranks} threads").Single();
        var torchN = Torch(peer, ["--case", "step", "--ranks", n, "--threads", "1", .. stepArgs], 1, $"torch step, {ranks} ranks x 1 thread").Single();

        Console.Out.WriteLine();
        Console.Out.Write(Table(ranks, oursReduce, torchReduce, ours1, oursN, oursSerial, torch1, torchN, load, LoadAverage()));
        Console.Out.Flush();
        return 0;
    }

    // Runs `dp` with `ranks` processes (under mpirun when more than one) and returns its JSON lines.
    private static List<JsonElement> Ours(string mpirun, int ranks, string[] dpArgs, string what)
    {
        var (dotnet, prefix) = SelfCommand();
        string file;
        var argv = new List<string>();
        if (ranks == 1)
        {
            file = dotnet;
        }
        else
        {
            file = mpirun;
            argv.AddRange(["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(CultureInfo.InvariantCulture), dotnet]);
        }
        argv.AddRange(prefix);
        argv.Add("dp");
        argv.AddRange(dpArgs);
        return Launch(what, file, [.. argv], []);
    }

    private static List<JsonElement> Torch(string script, string[] peerArgs, int threads, string what)
    {
        string t = threads.ToString(CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string> { ["OPENBLAS_NUM_THREADS"] = t, ["OMP_NUM_THREADS"] = t, ["MKL_NUM_THREADS"] = t };
        return Launch(what, TorchPeer.Python, [script, .. peerArgs], env);
    }

    // Runs one measurement to the end, echoes its JSON lines and returns them.
    private static List<JsonElement> Launch(string what, string file, string[] argv, Dictionary<string, string> env)
    {
        Console.Error.WriteLine($"dp-suite: {what}: {file} {string.Join(' ', argv)}");
        var (code, stdout, stderr) = TorchPeer.Exec(file, argv, env);
        // A rank's stdout may reach mpirun through a terminal, and .NET then writes terminal
        // control sequences before the first line: keep each line from its first '{'.
        var json = string.Join('\n', stdout.Split('\n').Select(l => l.IndexOf('{', StringComparison.Ordinal)).Zip(stdout.Split('\n'))
            .Where(p => p.First >= 0).Select(p => p.Second[p.First..]));
        if (code != 0)
            throw new InvalidOperationException($"{what} exited with {code}:\n{stderr.Trim()}\n{stdout.Trim()}");
        var lines = TorchPeer.JsonLines(json, what);
        if (lines.Count == 0)
            throw new InvalidOperationException($"{what} printed no result:\n{stderr.Trim()}\n{stdout.Trim()}");
        foreach (var line in lines)
            Console.Out.WriteLine(line.GetRawText());
        Console.Out.Flush();
        return lines;
    }

    private static string Table(
        int ranks, List<JsonElement> oursReduce, List<JsonElement> torchReduce,
        JsonElement ours1, JsonElement oursN, JsonElement oursSerial, JsonElement torch1, JsonElement torchN, string loadBefore, string loadAfter)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"### All-reduce, {ranks} ranks on one machine (float32 sum in place; median of the slowest rank)\n\n");
        sb.Append("| size | ours ms | torch gloo ms | torch/ours (> 1: ours faster) | ours busbw GB/s | torch busbw GB/s |\n");
        sb.Append("|---:|---:|---:|---:|---:|---:|\n");
        foreach (var o in oursReduce)
        {
            long bytes = o.GetProperty("bytes").GetInt64();
            var t = torchReduce.FirstOrDefault(x => x.GetProperty("bytes").GetInt64() == bytes);
            double oms = Num(o, "ms"), tms = t.ValueKind == JsonValueKind.Object ? Num(t, "ms") : double.NaN;
            sb.Append(CultureInfo.InvariantCulture,
                $"| {Size(bytes)} | {Cell(oms, 3)} | {Cell(tms, 3)} | {Cell(tms / oms, 2)} | {Cell(Num(o, "busbw_gbs"), 2)} | {Cell(t.ValueKind == JsonValueKind.Object ? Num(t, "busbw_gbs") : double.NaN, 2)} |\n");
        }

        double o1 = Num(ours1, "ms"), oN = Num(oursN, "ms"), oS = Num(oursSerial, "ms"), t1 = Num(torch1, "ms"), tN = Num(torchN, "ms");
        sb.Append(CultureInfo.InvariantCulture,
            $"\n### Train step, Llama-shaped (params: ours {ours1.GetProperty("params").GetInt64():N0}, torch {torch1.GetProperty("params").GetInt64():N0}; global batch {ours1.GetProperty("batch").GetInt32()} x {ours1.GetProperty("seq").GetInt32()} tokens; median ms of the slowest rank)\n\n");
        sb.Append("| config | ours ms | torch ms | torch/ours (> 1: ours faster) | ours tokens/s | ours speed-up vs 1 rank | torch speed-up vs 1 rank | ours buckets started during backward | ours exposed comm ms |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| 1 rank x {ranks} threads | {Cell(o1, 1)} | {Cell(t1, 1)} | {Cell(t1 / o1, 2)} | {Cell(Num(ours1, "tokens_per_s"), 0)} | 1.00 | 1.00 | - | - |\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {ranks} ranks x 1 thread, overlap | {Cell(oN, 1)} | {Cell(tN, 1)} | {Cell(tN / oN, 2)} | {Cell(Num(oursN, "tokens_per_s"), 0)} | {Cell(o1 / oN, 2)} | {Cell(t1 / tN, 2)} | {Started(oursN)} | {Cell(Num(oursN, "exposed_comm_ms"), 2)} |\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {ranks} ranks x 1 thread, no overlap | {Cell(oS, 1)} | - | - | {Cell(Num(oursSerial, "tokens_per_s"), 0)} | {Cell(o1 / oS, 2)} | - | {Started(oursSerial)} | {Cell(Num(oursSerial, "exposed_comm_ms"), 2)} |\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"\nTorch is {torch1.GetProperty("torch").GetString()} on gloo (DistributedDataParallel, which always overlaps). Exposed comm: time waiting for the gradient sums after the backward pass (includes waiting for a slower rank). Load average before: {loadBefore}; after: {loadAfter}.\n");
        return sb.ToString();
    }

    private static string Started(JsonElement e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.GetProperty("started_during_backward").GetInt32()} of {e.GetProperty("buckets").GetInt32()}");

    private static double Num(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    private static string Cell(double v, int digits) =>
        double.IsFinite(v) ? v.ToString("N" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";

    private static string Size(long bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20} MiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB");

    // How to start this program again: the dotnet host and this assembly, or the apphost alone.
    private static (string File, string[] Prefix) SelfCommand()
    {
        string dll = typeof(DataParallelBench).Assembly.Location;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet")
            return (process, [dll]);
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is null || !File.Exists(host))
            host = FindOnPath("dotnet") ?? throw new BenchUsageException("cannot find the dotnet host on PATH to start the ranks");
        return (host, [dll]);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    // A repository file's path, found from bench/peers; the relative path when that is not found.
    private static string RepoPath(string relative)
    {
        try
        {
            return Path.GetFullPath(Path.Combine(TorchPeer.PeersDirectory(), "..", "..", relative));
        }
        catch (BenchUsageException)
        {
            return relative;
        }
    }

    // The 1, 5 and 15 minute load averages: other work on the machine skews every figure.
    private static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', parts.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
