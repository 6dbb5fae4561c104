using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Bench;

/// <summary>Garbage collections and allocated bytes per timed run of ours.</summary>
public readonly record struct GcPerRun(double Gen0, double Gen1, double Gen2, double AllocatedBytes)
{
    /// <summary>Counts the collections and allocations of every call of <see cref="Time"/> made on it.</summary>
    public sealed class Meter
    {
        private long _gen0, _gen1, _gen2, _bytes;
        private int _runs;

        // Times one run (ms), counting its collections and allocations (all threads').
        public double Time(Action run)
        {
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            long bytes = GC.GetTotalAllocatedBytes(precise: true);
            long t0 = Stopwatch.GetTimestamp();
            run();
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            _bytes += GC.GetTotalAllocatedBytes(precise: true) - bytes;
            _gen0 += GC.CollectionCount(0) - g0;
            _gen1 += GC.CollectionCount(1) - g1;
            _gen2 += GC.CollectionCount(2) - g2;
            _runs++;
            return ms;
        }

        public GcPerRun PerRun => _runs == 0 ? default : new((double)_gen0 / _runs, (double)_gen1 / _runs, (double)_gen2 / _runs, (double)_bytes / _runs);
    }
}

/// <summary>One side-by-side case: our figures and the peer's over the rounds.</summary>
public sealed record SideBySideResult(string Verb, LmCase Case, long Params, long PeerParams, int Threads, int RunsPerRound, Rounds Rounds, GcPerRun Gc, long TokensPerRun)
{
    /// <summary>The peer's torch version ("" without a peer).</summary>
    public string PeerVersion { get; init; } = "";

    /// <summary>The case's JSON line: spreads over rounds of ms (and tokens/s when tokens are counted), ratios and ours' GC figures.</summary>
    public JsonLine ToJson()
    {
        var line = new JsonLine()
            .Add("case", Verb)
            .Add("model", Case.Name)
            .Add("family", Case.Config.ModelType)
            .Add("params", Params)
            .Add("threads", Threads)
            .Add("rounds", Rounds.OursMs.Count)
            .Add("runs_per_round", RunsPerRound);
        bool peer = Rounds.PeerMs.Count > 0;
        Rounds.Ours.AddTo(line, "ours_ms");
        if (peer)
        {
            line.Add("torch_params", PeerParams);
            Rounds.Peer.AddTo(line, "torch_ms");
            Rounds.Ratio.AddTo(line, "ratio");
        }
        if (TokensPerRun > 0)
        {
            line.Add("ours_tokens_per_s_median", TokensPerRun / (Rounds.Ours.Median / 1000), 1);
            if (peer)
                line.Add("torch_tokens_per_s_median", TokensPerRun / (Rounds.Peer.Median / 1000), 1);
        }
        string per = Verb == "train_step" ? "step" : "run";
        return line
            .Add($"gc_gen0_per_{per}", Gc.Gen0)
            .Add($"gc_gen1_per_{per}", Gc.Gen1)
            .Add($"gc_gen2_per_{per}", Gc.Gen2)
            .Add($"alloc_bytes_per_{per}", Gc.AllocatedBytes, 0);
    }
}

/// <summary>
/// Ours against the PyTorch peer (bench/peers/torch_lm.py) on the same shapes, alternating: round
/// r times <c>runs</c> runs of ours (in this process, warm), then <c>runs</c> of the peer (a fresh
/// process that warms up first); each round's figure is its median run, and the ratio pairs the
/// rounds (peer ms ÷ our ms, above 1 when ours is faster).
/// </summary>
public static class SideBySide
{
    public sealed record Options(List<LmCase> Cases, int Rounds, int Runs, int PeerWarmup, int Threads);

    // --cases a,b --rounds 5 --runs N --warmup 2 --threads T
    public static Options Parse(BenchArgs args, int defaultRuns)
    {
        var cases = LmCase.Parse(args.String("cases"));
        int rounds = args.Ints("rounds")?[0] ?? 5;
        int runs = args.Ints("runs")?[0] ?? defaultRuns;
        int warmup = args.Ints("warmup")?[0] ?? 2;
        int threads = args.Ints("threads")?[0] ?? Engine.Threads;
        return new Options(cases, rounds, runs, warmup, threads);
    }

    public const string OptionsUsage = "[--cases gpt2-6m,llama-6m,pipeline] [--rounds 5] [--runs N] [--warmup 2] [--threads T]";

    /// <summary>Training steps: zero_grad, forward, next-token cross-entropy, backward, AdamW(lr 1e-3).</summary>
    public static SideBySideResult TrainStep(LmCase c, Options o)
    {
        Engine.Threads = o.Threads;
        var cfg = c.Config;
        var model = new CausalLM(cfg, new Generator(1));
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-3f);
        var ids = new Generator(2).Uniform([c.Batch, c.Seq], 0, cfg.VocabSize - 1).ToInt32();
        void Step() => TrainStepBench.Step(model, opt, ids);
        string[] peerArgs = [.. c.PeerModelArgs(), "--batch", I(c.Batch), "--seq", I(c.Seq)];
        return Alternate("train_step", "train", c, model.ParameterCount(), Step, peerArgs, o, tokensPerRun: 0);
    }

    /// <summary>Sampling with the KV cache: <paramref name="prompt"/> random prompt tokens, then <paramref name="newTokens"/> drawn at temperature 1 with no EOS.</summary>
    public static SideBySideResult Generate(LmCase c, Options o, int batch, int prompt, int newTokens, bool withPeer = true)
    {
        Engine.Threads = o.Threads;
        c = c.WithPositions(Math.Max(c.Config.MaxPositions, prompt + newTokens));
        var cfg = c.Config;
        var model = new CausalLM(cfg, new Generator(1));
        model.Freeze();
        var rng = new Generator(2);
        var ids = rng.Uniform([batch, prompt], 0, cfg.VocabSize - 1).ToInt32();
        var mask = Tensor.Ones(batch, prompt);
        // No EOS ids and no stop strings: every row draws all newTokens tokens.
        var opts = new GenerationOptions { MaxNewTokens = newTokens, DoSample = true, Temperature = 1f };
        void Run()
        {
            // In a storage scope, as a trainer's rollout runs inside its step.
            using var _ = TensorArena.Step();
            var r = Sampler.Generate(model, ids, mask, opts, rng);
            if (r.ResponseLengths.Any(n => n != newTokens))
                throw new InvalidOperationException($"a row stopped before {newTokens} tokens; the benchmark needs full-length responses");
        }
        string[] peerArgs = [.. c.PeerModelArgs(), "--batch", I(batch), "--prompt", I(prompt), "--new-tokens", I(newTokens), "--temperature", "1"];
        return Alternate("generate", "generate", c, model.ParameterCount(), Run, withPeer ? peerArgs : null, o, tokensPerRun: (long)batch * newTokens);
    }

    private static SideBySideResult Alternate(string verb, string mode, LmCase c, long ours, Action run, string[]? peerArgs, Options o, long tokensPerRun)
    {
        string[]? argv = peerArgs is null ? null
            : [Path.Combine(TorchPeer.PeersDirectory(), "torch_lm.py"), "--mode", mode, .. peerArgs, "--threads", I(o.Threads), "--warmup", I(o.PeerWarmup), "--runs", I(o.Runs)];
        for (int i = 0; i < o.PeerWarmup; i++)
            run();
        var meter = new GcPerRun.Meter();
        var rounds = new Rounds();
        long peerParams = 0;
        string peerVersion = "";
        for (int r = 0; r < o.Rounds; r++)
        {
            var times = new double[o.Runs];
            for (int i = 0; i < o.Runs; i++)
                times[i] = meter.Time(run);
            rounds.OursMs.Add(Spread.Of(times).Median);
            if (argv is null)
                continue;
            var line = TorchPeer.RunScript(argv, o.Threads);
            if (line.Count != 1)
                throw new PeerOutputException($"torch_lm.py printed {line.Count} JSON lines, expected one");
            rounds.PeerMs.Add(Spread.Of(TorchPeer.Times(line[0], "torch_lm.py")).Median);
            peerVersion = line[0].TryGetProperty("torch", out var v) ? v.GetString() ?? "" : "";
            peerParams = line[0].TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : 0;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb} {c.Name}: round {r + 1}/{o.Rounds}: ours {rounds.OursMs[^1]:F1} ms, torch {rounds.PeerMs[^1]:F1} ms"));
        }
        return new SideBySideResult(verb, c, ours, peerParams, o.Threads, o.Runs, rounds, meter.PerRun, tokensPerRun) { PeerVersion = peerVersion };
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
