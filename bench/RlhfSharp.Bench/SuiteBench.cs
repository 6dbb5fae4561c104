using System.Globalization;
using System.Text;

namespace RlhfSharp.Bench;

/// <summary>
/// <c>suite</c>: the side-by-side figures of the README in one run: train-step and generate
/// against the PyTorch peer on every case, then ppo-step. JSON lines on stdout; with
/// <c>--markdown</c> they go to stderr and stdout gets the README's tables instead.
/// </summary>
public static class SuiteBench
{
    public const string Usage = "suite [--markdown] [--cases gpt2-6m,llama-6m,pipeline] [--rounds 5] [--runs 5 (train steps per round; generate takes 3)] [--warmup 2] [--threads T] [--ppo-iterations 3]";

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        bool markdown = args.Flag("markdown");
        int ppoIterations = args.Ints("ppo-iterations")?[0] ?? 3;
        var train = SideBySide.Parse(args, defaultRuns: 5);
        args.RejectUnknown();
        TorchPeer.EnsureAvailable("suite");
        var gen = train with { Runs = 3 };
        void Emit(JsonLine line)
        {
            if (markdown)
                Console.Error.WriteLine(line.ToString());
            else
                line.WriteLine();
        }
        var results = new List<SideBySideResult>();
        foreach (var c in train.Cases)
        {
            results.Add(SideBySide.TrainStep(c, train));
            Emit(results[^1].ToJson());
        }
        foreach (var c in gen.Cases)
        {
            results.Add(SideBySide.Generate(c, gen, batch: 8, prompt: 16, newTokens: 128));
            Emit(results[^1].ToJson());
        }
        var ppo = PpoStepBench.Measure(ppoIterations, warmup: 1, train.Threads);
        Emit(ppo.Line);
        if (markdown)
        {
            Console.Out.Write(Markdown(results, ppo, Machine(), DateTime.UtcNow));
            Console.Out.Flush();
        }
        return 0;
    }

    /// <summary>
    /// The README's tables: one row per side-by-side case (medians over rounds, the ratio's spread
    /// and ours' collections per step or run), then the PPO iteration's parts.
    /// </summary>
    public static string Markdown(IReadOnlyList<SideBySideResult> results, PpoStepBench.Result? ppo, string machine, DateTime utc)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string torch = results.Select(r => r.PeerVersion).FirstOrDefault(v => v.Length > 0) ?? "";
        int threads = results.Count > 0 ? results[0].Threads : 0;
        int rounds = results.Count > 0 ? results[0].Rounds.OursMs.Count : 0;
        sb.Append(inv, $"Measured {utc:yyyy-MM-dd HH:mm} UTC on {machine}, {threads} thread{(threads == 1 ? "" : "s")}, {rounds} alternating rounds; torch {(torch.Length > 0 ? torch : "?")} eager.\n");
        sb.Append("Ratio = torch ms ÷ our ms per round (above 1: ours is faster); GCs = our gen0/gen1/gen2 collections per step (train) or per run (generate).\n\n");
        sb.Append("| bench | case | params | ours ms | torch ms | ratio min / median / max | GCs |\n");
        sb.Append("|---|---|---:|---:|---:|---|---|\n");
        foreach (var r in results)
        {
            string bench = r.Verb == "train_step" ? "train step" : r.TokensPerRun > 0 ? $"generate ({r.TokensPerRun.ToString(inv)} tokens)" : r.Verb;
            var ratio = r.Rounds.PeerMs.Count > 0 ? r.Rounds.Ratio : new Spread(double.NaN, double.NaN, double.NaN);
            string torchMs = r.Rounds.PeerMs.Count > 0 ? r.Rounds.Peer.Median.ToString("F1", inv) : "–";
            sb.Append(inv, $"| {bench} | {r.Case.Name} | {Millions(r.Params)} | {r.Rounds.Ours.Median:F1} | {torchMs} | {ratio.Min:F2} / **{ratio.Median:F2}** / {ratio.Max:F2} | {r.Gc.Gen0:0.##}/{r.Gc.Gen1:0.##}/{r.Gc.Gen2:0.##} |\n");
        }
        if (ppo is not null)
        {
            sb.Append(inv, $"\nPPO iteration (examples/ppo.yaml on the pipeline shapes), median {ppo.IterationMs:F0} ms:\n\n");
            sb.Append("| part | ms | % |\n|---|---:|---:|\n");
            foreach (var (part, ms) in ppo.Parts)
                sb.Append(inv, $"| {part.Replace("score_", "score: ", StringComparison.Ordinal)} | {ms:F0} | {100 * ms / ppo.IterationMs:F1} |\n");
        }
        return sb.ToString();
    }

    // The vector width the CPU engine's kernels run at on this machine.
    public static string KernelIsa() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? "AVX2"
        : "scalar";

    private static string Millions(long n) => (n / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M";

    // "AMD EPYC (family 25, model 1; 2 cores, AVX2 kernels)", from /proc/cpuinfo where there is one:
    // the same CPU name covers generations with and without AVX-512, and the kernels differ.
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string? Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal) && l[key.Length..].TrimStart().StartsWith(':')) is { } l
                ? l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() : null;
            if (Field("model name") is { } name)
                cpu = name;
            if (Field("cpu family") is { } family && Field("model") is { } model)
                cpu += $" (family {family}, model {model})";
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return $"{cpu}, {Environment.ProcessorCount} cores, {KernelIsa()} kernels";
    }
}
