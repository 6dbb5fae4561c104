using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Bench;

/// <summary>
/// <c>ppo-step</c>: where one PPO iteration of the pipeline spends its time. The config is
/// examples/ppo.yaml (batch 64, mini-batch 16, 2 epochs, prompts of 32 tokens, responses of 24),
/// the models have examples/sft.yaml's model_init shape with random weights (policy, its frozen
/// reference copy, and a reward model that also starts the critic), the prompts come from the
/// built-in task written to a temporary folder, and the iteration is the real
/// <see cref="PpoLearner.Step"/>: its time/* metrics split it into rollout, scoring (policy and
/// reference log-probs, critic values, reward) and update. After warm-up iterations, the median
/// of each part over the timed iterations.
/// </summary>
public static class PpoStepBench
{
    public const string Usage = "ppo-step [--iterations 3] [--warmup 1] [--threads T]";

    private static readonly string[] Parts =
        ["time/generate", "time/score", "time/score_policy", "time/score_ref", "time/score_critic", "time/score_reward", "time/update"];

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        int iterations = args.Ints("iterations")?[0] ?? 3;
        int warmup = args.Ints("warmup")?[0] ?? 1;
        int threads = args.Ints("threads")?[0] ?? Engine.Threads;
        args.RejectUnknown();
        Measure(iterations, warmup, threads).Line.WriteLine();
        return 0;
    }

    /// <summary>One measured PPO iteration: its JSON line, the median iteration and each part's median (ms, in <see cref="Parts"/> order).</summary>
    public sealed record Result(JsonLine Line, double IterationMs, IReadOnlyList<(string Part, double Ms)> Parts);

    /// <summary>Runs the iterations; the JSON line has each part's median ms and its share of the median iteration.</summary>
    public static Result Measure(int iterations, int warmup, int threads)
    {
        Engine.Threads = threads;
        string examples = Path.Combine(RepoRoot.Find(), "examples");
        var dir = Directory.CreateTempSubdirectory("ppo-step-bench-");
        try
        {
            string data = Path.Combine(dir.FullName, "data"), sft = Path.Combine(dir.FullName, "sft"), rm = Path.Combine(dir.FullName, "rm");
            var overrides = new List<string> { $"data={data}", $"model={sft}", $"reward_model={rm}", $"threads={threads}" };
            var cfg = ConfigBinder.Load<PpoConfig>(Path.Combine(examples, "ppo.yaml"), overrides);
            var init = ConfigBinder.Load<SftConfig>(Path.Combine(examples, "sft.yaml"), [$"data={data}"]).ModelInit;
            int iterationsAll = warmup + iterations;
            BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = Math.Max(1000, iterationsAll * cfg.BatchSize), EvalPrompts = 16, PreferencePairs = 1000 });

            var tokenizer = BpeTokenizer.FromDirectory(Path.Combine(data, "tokenizer"));
            var modelCfg = init.ToModelConfig(tokenizer);
            var policy = new CausalLM(modelCfg, new Generator(1));
            PretrainedIO.Save(policy, sft);
            tokenizer.Save(sft);
            var scorer = new SequenceScorer(modelCfg, new Generator(2));
            scorer.Score.Weight.Assign(new Generator(3).Normal(scorer.Score.Weight.Shape, 0f, 0.5f));
            PretrainedIO.Save(scorer, rm);
            tokenizer.Save(rm);

            var reference = PretrainedIO.LoadCausalLM(sft);
            reference.Freeze();
            var template = ChatTemplate.Get(cfg.ChatTemplate);
            // As the ppo trainer builds its reward: the reward model folder, read with its own tokenizer.
            var reward = new RewardMixture([new RewardComponent(RewardModelSource.Load(rm, template, cfg.MaxPromptLength + cfg.ResponseLength + 8, cfg.MaxPromptLength), 1)], cfg.NormalizeRewards);
            var inputs = new TrainerInputs(tokenizer, template, Gold: null);
            using var dp = DataParallel.Start(cfg, "");
            var learner = new PpoLearner(cfg, new RlContext(inputs, policy, reference, reward, inputs.PromptCollator(cfg.MaxPromptLength), dp));
            var prompts = PromptDataset.Load(Path.Combine(data, "prompts_train.jsonl"), new DataLoadOptions()).ToList();

            var times = Parts.ToDictionary(p => p, _ => new List<double>());
            var total = new List<double>();
            var meter = new GcPerRun.Meter();
            for (int it = 0; it < iterationsAll; it++)
            {
                var batch = prompts.GetRange(it * cfg.BatchSize, cfg.BatchSize);
                IReadOnlyDictionary<string, double> m = new Dictionary<string, double>();
                // In a storage scope per iteration, as the PPO trainer's step loop runs it.
                void Iteration()
                {
                    using var _ = TensorArena.Step();
                    m = learner.Step(batch, it).Metrics;
                }
                double ms = it < warmup ? Timed(Iteration) : meter.Time(Iteration);
                Console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ppo-step: iteration {it + 1}/{iterationsAll}{(it < warmup ? " (warm-up)" : "")}: {ms:F0} ms"));
                if (it < warmup)
                    continue;
                total.Add(ms);
                foreach (var p in Parts)
                    times[p].Add(m[p] * 1000);
            }

            double all = Spread.Of(total).Median;
            var line = new JsonLine()
                .Add("case", "ppo_step")
                .Add("params", policy.ParameterCount())
                .Add("vocab", modelCfg.VocabSize)
                .Add("batch", cfg.BatchSize)
                .Add("mini_batch", cfg.MiniBatchSize)
                .Add("ppo_epochs", cfg.PpoEpochs)
                .Add("prompt_length", cfg.MaxPromptLength)
                .Add("response_length", cfg.ResponseLength)
                .Add("threads", threads)
                .Add("iterations", iterations)
                .Add("iteration_ms", all, 1);
            var parts = new List<(string, double)>();
            foreach (var p in Parts)
            {
                string name = p == "time/generate" ? "rollout" : p["time/".Length..];
                double median = Spread.Of(times[p]).Median;
                line.Add(name + "_ms", median, 1).Add(name + "_pct", 100 * median / all, 1);
                parts.Add((name, median));
            }
            var gc = meter.PerRun;
            line.Add("gc_gen0_per_iteration", gc.Gen0)
                .Add("gc_gen1_per_iteration", gc.Gen1)
                .Add("gc_gen2_per_iteration", gc.Gen2)
                .Add("alloc_bytes_per_iteration", gc.AllocatedBytes, 0);
            return new Result(line, all, parts);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static double Timed(Action run)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        run();
        return System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
}

/// <summary>The repository's root folder (the one holding RlhfSharp.slnx), found above the program or the working directory.</summary>
public static class RepoRoot
{
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RlhfSharp.slnx")) && Directory.Exists(Path.Combine(dir.FullName, "examples")))
                    return dir.FullName;
            }
        }
        throw new BenchUsageException("cannot find the repository (RlhfSharp.slnx and examples/) above the program or the working directory; run from the repository");
    }
}
