using System.Diagnostics;
using System.Globalization;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Commands;

/// <summary>The settings of <c>rlhf dist-check</c>.</summary>
public sealed class DistCheckConfig : IValidatableConfig
{
    [ConfigKey("megabytes", "Size of the timed all-reduce")]
    public double Megabytes { get; set; } = 4;

    [ConfigKey("repeats", "Timed all-reduces (the median is reported)")]
    public int Repeats { get; set; } = 10;

    [ConfigKey("dist_timeout_s", "Seconds a collective waits for the other ranks before the check stops naming the missing rank")]
    public double DistTimeoutSeconds { get; set; } = 60;

    public IEnumerable<string> Validate()
    {
        if (!(Megabytes > 0))
            yield return $"megabytes must be positive, got {Megabytes}";
        if (Repeats <= 0)
            yield return $"repeats must be positive, got {Repeats}";
        if (!(DistTimeoutSeconds > 0))
            yield return $"dist_timeout_s must be positive, got {DistTimeoutSeconds}";
    }
}

/// <summary>
/// <c>mpirun -np N dotnet rlhf.dll dist-check</c>: checks that the ranks of a data-parallel run
/// can work together before a long run is started: every collective the trainers use, with
/// values whose right result is known on every rank, then the time of an all-reduce. Exits
/// non-zero naming the collective and rank that got a wrong result. Run alone it checks a
/// single process.
/// </summary>
public sealed class DistCheckCommand : ConfigVerb<DistCheckConfig>
{
    public override string Name => "dist-check";

    public override string Description => "Check the ranks of a data-parallel run (mpirun -np N … dist-check): every collective, then all-reduce speed";

    protected override int Run(DistCheckConfig config, VerbContext context)
    {
        var comm = World.Current;
        comm.Timeout = TimeSpan.FromSeconds(config.DistTimeoutSeconds);
        var output = context.Output;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{comm.Size} rank(s); MPI {(comm is MpiCommunicator ? "in use" : "not in use (one process)")}"));
        var failures = new List<string>();
        foreach (var (name, check) in Checks())
        {
            string? problem = check(comm);
            if (problem is not null)
                failures.Add($"rank {comm.Rank}: {name}: {problem}");
            double bad = comm.Sum(problem is null ? 0 : 1, "check results");
            output.WriteLine($"  {name,-28} {(bad == 0 ? "ok" : $"WRONG on {bad} rank(s)")}");
        }
        if (comm.Size == 1)
        {
            output.WriteLine("every collective gave the right result (one rank: nothing to time)");
            return ExitCodes.Success;
        }
        int values = (int)Math.Max(1, config.Megabytes * (1 << 20) / 4);
        var buffer = new float[values];
        var times = new List<double>();
        for (int i = 0; i < config.Repeats + 1; i++)
        {
            buffer.AsSpan().Fill(1f);
            var clock = Stopwatch.StartNew();
            comm.AllReduce<float>(buffer, ReduceOp.Sum, "timed all-reduce");
            double slowest = comm.Max(clock.Elapsed.TotalSeconds, "timing");
            if (i > 0)
                times.Add(slowest); // the first one sets up the connections
        }
        times.Sort();
        double median = times[times.Count / 2];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  all-reduce of {4.0 * values / (1 << 20):0.##} MB: {median * 1e3:0.###} ms median over {config.Repeats}, {4.0 * values / median / 1e9:0.###} GB/s algorithm bandwidth"));
        foreach (var f in failures)
            context.Error.WriteLine($"error: {f}");
        if (comm.Sum(failures.Count, "check results") > 0)
            throw new DistributedException("dist-check: a collective gave a wrong result (see above)");
        output.WriteLine("every collective gave the right result");
        return ExitCodes.Success;
    }

    // Each check returns null when this rank's result is right, or what was wrong.
    private static IEnumerable<(string Name, Func<Communicator, string?> Check)> Checks()
    {
        yield return ("barrier", c =>
        {
            c.Barrier();
            return null;
        }
        );
        yield return ("all-reduce sum (float)", c =>
        {
            // Rank r gives r + 1 + i at index i: the sum is n(n+1)/2 + n·i.
            var x = new float[1000];
            for (int i = 0; i < x.Length; i++)
                x[i] = c.Rank + 1 + i;
            c.AllReduce<float>(x);
            int n = c.Size;
            for (int i = 0; i < x.Length; i++)
            {
                float want = (n * (n + 1) / 2f) + (n * (float)i);
                if (x[i] != want)
                    return $"index {i} is {x[i]}, expected {want}";
            }
            return null;
        }
        );
        yield return ("all-reduce max/min (double)", c =>
        {
            Span<double> hi = [c.Rank * 1.5, -c.Rank];
            Span<double> lo = [c.Rank * 1.5, -c.Rank];
            c.AllReduce(hi, ReduceOp.Max);
            c.AllReduce(lo, ReduceOp.Min);
            int top = c.Size - 1;
            return hi[0] == top * 1.5 && hi[1] == 0 && lo[0] == 0 && lo[1] == -top ? null : $"max ({hi[0]}, {hi[1]}), min ({lo[0]}, {lo[1]})";
        }
        );
        yield return ("all-reduce sum (int, long)", c =>
        {
            Span<int> i = [1, c.Rank];
            Span<long> l = [1L << 40, c.Rank];
            c.AllReduce(i);
            c.AllReduce(l);
            long ranks = (long)c.Size * (c.Size - 1) / 2;
            return i[0] == c.Size && i[1] == ranks && l[0] == (long)c.Size << 40 && l[1] == ranks ? null : $"int ({i[0]}, {i[1]}), long ({l[0]}, {l[1]})";
        }
        );
        yield return ("broadcast from the last rank", c =>
        {
            int root = c.Size - 1;
            var x = Enumerable.Range(0, 100).Select(i => (byte)(c.Rank == root ? i * 7 : 0)).ToArray();
            c.Broadcast<byte>(x, root);
            return x.Select((v, i) => v == (byte)(i * 7)).All(ok => ok) ? null : "the values differ from the root's";
        }
        );
        yield return ("all-gather, uneven lengths", c =>
        {
            // Rank r gives r + 1 copies of r.
            var all = c.AllGatherV<float>(Enumerable.Repeat((float)c.Rank, c.Rank + 1).ToArray(), out var counts);
            var want = Enumerable.Range(0, c.Size).SelectMany(r => Enumerable.Repeat((float)r, r + 1)).ToArray();
            return all.SequenceEqual(want) && counts.SequenceEqual(Enumerable.Range(1, c.Size)) ? null : $"got [{string.Join(", ", all)}]";
        }
        );
        yield return ("gather to rank 0", c =>
        {
            var all = c.GatherV<double>([c.Rank + 0.5], out _);
            return c.Rank != 0 || all.SequenceEqual(Enumerable.Range(0, c.Size).Select(r => r + 0.5)) ? null : $"got [{string.Join(", ", all)}]";
        }
        );
        yield return ("reduce-scatter", c =>
        {
            // Block b of every rank holds b + rank; the sum of block b is n·b + n(n−1)/2.
            const int block = 3;
            var input = new float[block * c.Size];
            for (int i = 0; i < input.Length; i++)
                input[i] = (i / block) + c.Rank;
            var mine = new float[block];
            c.ReduceScatter<float>(input, mine);
            float want = (c.Size * c.Rank) + (c.Size * (c.Size - 1) / 2f);
            return mine.All(v => v == want) ? null : $"block {c.Rank} is [{string.Join(", ", mine)}], expected {want}";
        }
        );
        yield return ("background all-reduce", c =>
        {
            var a = GC.AllocateArray<float>(4096, pinned: true);
            var b = GC.AllocateArray<float>(16, pinned: true);
            a.AsSpan().Fill(c.Rank + 1);
            b.AsSpan().Fill(2);
            var first = c.StartAllReduce(a, a.Length);
            var second = c.StartAllReduce(b, b.Length);
            second.Wait();
            first.Wait();
            float sum = c.Size * (c.Size + 1) / 2f;
            return a.All(v => v == sum) && b.All(v => v == 2 * c.Size) ? null : $"got {a[0]} and {b[0]}";
        }
        );
    }
}
