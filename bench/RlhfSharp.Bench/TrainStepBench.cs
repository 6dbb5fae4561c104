using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Bench;

/// <summary>
/// Milliseconds per language-model training step (forward, cross-entropy, backward, AdamW) on a
/// Llama-shaped model with random weights and random token batches.
/// </summary>
public static class TrainStepBench
{
    /// <summary>The benchmarks' Llama-shaped model: grouped-query attention with half the heads for keys and values, an MLP 3x the width, tied embeddings.</summary>
    public static ModelConfig LlamaShape(int hidden, int layers, int heads, int vocab, int seq) => new()
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

    public const string Usage =
        "train-step [--hidden 128] [--layers 4] [--heads 4] [--vocab 512] [--batch 32] [--seq 48] [--threads T] [--checkpointing]\n"
        + "train-step --case gpt2-6m|llama-6m|pipeline [--steps N] [--threads T]   (ours alone on a side-by-side case: N steps after 2 warm-up, for profiling)\n"
        + "train-step --vs-torch " + SideBySide.OptionsUsage + "   (--runs: steps per round, default 5)";

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        if (args.Flag("vs-torch"))
        {
            var o = SideBySide.Parse(args, defaultRuns: 5);
            args.RejectUnknown();
            TorchPeer.EnsureAvailable();
            foreach (var c in o.Cases)
                SideBySide.TrainStep(c, o).ToJson().WriteLine();
            return 0;
        }
        var named = args.String("case");
        if (named is not null)
        {
            return LmCase.Names.Contains(named)
                ? RunCase(LmCase.Get(named), args)
                : throw new BenchUsageException($"--case: unknown case '{named}'; known: {string.Join(", ", LmCase.Names)}");
        }
        int hidden = args.Ints("hidden")?[0] ?? 128;
        int layers = args.Ints("layers")?[0] ?? 4;
        int heads = args.Ints("heads")?[0] ?? 4;
        int vocab = args.Ints("vocab")?[0] ?? 512;
        int batch = args.Ints("batch")?[0] ?? 32;
        int seq = args.Ints("seq")?[0] ?? 48;
        int threads = args.Ints("threads")?[0] ?? Engine.Threads;
        bool checkpointing = args.Flag("checkpointing");
        args.RejectUnknown();
        Engine.Threads = threads;

        var cfg = LlamaShape(hidden, layers, heads, vocab, seq);
        var model = new CausalLM(cfg, new Generator(1));
        model.Body.GradientCheckpointing = checkpointing;
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-3f);
        var rng = new Generator(2);
        var ids = rng.Uniform([batch, seq], 0, vocab - 1).ToInt32();
        var t = Timings.Measure(() => Step(model, opt, ids), minRuns: 5, maxRuns: 30, targetSeconds: 3);
        long tokens = (long)batch * seq;
        new JsonLine()
            .Add("case", "train_step")
            .Add("params", model.ParameterCount())
            .Add("batch", batch)
            .Add("seq", seq)
            .Add("threads", threads)
            .Add("checkpointing", checkpointing)
            .Add("ms", t.MedianMs)
            .Add("tokens_per_s", tokens / (t.MedianMs / 1000))
            .WriteLine();
        return 0;
    }

    // Ours alone on a named case, a fixed number of steps: a profiler sees no peer process.
    private static int RunCase(LmCase c, BenchArgs args)
    {
        int steps = args.Ints("steps")?[0] ?? 20;
        Engine.Threads = args.Ints("threads")?[0] ?? Engine.Threads;
        args.RejectUnknown();
        var model = new CausalLM(c.Config, new Generator(1));
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-3f);
        var ids = new Generator(2).Uniform([c.Batch, c.Seq], 0, c.Config.VocabSize - 1).ToInt32();
        for (int i = 0; i < 2; i++)
            Step(model, opt, ids);
        var meter = new GcPerRun.Meter();
        var ms = new List<double>();
        for (int i = 0; i < steps; i++)
            ms.Add(meter.Time(() => Step(model, opt, ids)));
        ms.Sort();
        new JsonLine()
            .Add("case", "train_step")
            .Add("model", c.Name)
            .Add("threads", Engine.Threads)
            .Add("steps", steps)
            .Add("ms_min", ms[0])
            .Add("ms_median", ms[ms.Count / 2])
            .Add("gc_gen0_per_step", meter.PerRun.Gen0)
            .Add("alloc_bytes_per_step", meter.PerRun.AllocatedBytes)
            .WriteLine();
        return 0;
    }

    /// <summary>
    /// One training step on ids [B, T]: zero the gradients, forward, cross-entropy of each next
    /// token, backward, AdamW; in a storage scope, as the trainers run each step.
    /// </summary>
    public static void Step(CausalLM model, AdamW opt, Tensor ids)
    {
        using var _ = TensorArena.Step();
        int seq = ids.Size(1), vocab = model.Config.VocabSize;
        opt.ZeroGrad();
        var logits = model.Forward(ids);
        F.CrossEntropy(logits.Narrow(1, 0, seq - 1).Reshape(-1, vocab), ids.Narrow(1, 1, seq - 1).Contiguous().Reshape(-1)).Backward();
        opt.Step();
    }
}
