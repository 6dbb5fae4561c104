using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Data-parallel runs on MPI (<c>mpirun -np N rlhf …</c>, Open MPI on this machine): N ranks
/// train the same model as one process with the same global batch, ZeRO-1 changes nothing but
/// the memory, a killed two-rank run resumes bit-identically, resuming on another number of
/// ranks works, and a rank that dies or stalls stops the others with its number.
/// </summary>
public sealed class DataParallelTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Loop = ["--threads", "1", "--seed", "5", "--warmup_steps", "1", "--log_every", "1", "--eval_every", "10"];

    private static readonly string[] TinyModel =
    [
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    private (string Data, string Sft, string Rm) Setup()
    {
        var data = Path.Combine(_dir, "data");
        if (!Directory.Exists(data))
            BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 96, EvalPrompts = 8, PreferencePairs = 96, TokenizerVocabSize = 300 });
        var (sft, rm) = TinyModels.Write(_dir, data);
        return (data, sft, rm);
    }

    private string[] Flags(string verb, string outDir, int steps = 20)
    {
        var (data, sft, rm) = Setup();
        string[] common = [verb, "--data", data, "--out", outDir, "--max_steps", steps.ToString(CultureInfo.InvariantCulture), .. Loop];
        string[] rl = ["--model", sft, "--reward_model", rm, "--eval_prompts", "2", "--learning_rate", "0.003", "--response_length", "6"];
        return verb switch
        {
            // Two micro-batches per step: the gradients are summed only after the second.
            "sft" => [.. common, .. TinyModel, "--batch_size", "6", "--gradient_accumulation_steps", "2", "--eval_prompts", "2", "--max_new_tokens", "4"],
            "rm" => [.. common, .. TinyModel, "--batch_size", "8"],
            "dpo" => [.. common, "--model", sft, "--batch_size", "8", "--eval_prompts", "2", "--max_new_tokens", "4", "--learning_rate", "0.003"],
            // RPO adds the chosen responses' NLL, a token mean over the whole batch.
            "dpo-rpo" => [.. With(Flags("dpo", outDir, steps), "--rpo_alpha", "0.5")],
            // Minibatches of 4 rows in two micro-batches: the ranks' shares of each are uneven and random.
            "ppo" => [.. common, .. rl, "--batch_size", "8", "--mini_batch_size", "4", "--gradient_accumulation_steps", "2"],
            // Groups of 4 stay on one rank; a prompt's group is never split.
            "grpo" => [.. common, .. rl, "--batch_size", "4", "--num_generations", "4", "--mini_batch_size", "8"],
            // A prompt's two answers stay on one rank; the judge sees the whole batch's scores.
            "online-dpo" => [.. common, .. rl, "--batch_size", "4", "--gradient_accumulation_steps", "2", "--missing_eos_penalty", "0.5"],
            // REINFORCE++ whitens the returns over every rank's tokens; the KL is in the reward.
            "grpo-rpp" => [.. With(Flags("grpo", outDir, steps), "--advantage", "reinforce_plus_plus", "--init_kl_coef", "0.1")],
            // ReMax: each rank answers its prompts greedily too.
            "grpo-remax" => [.. With(Flags("grpo", outDir, steps), "--advantage", "remax")],
            _ => throw new ArgumentOutOfRangeException(nameof(verb)),
        };
    }

    // The flags with each --key set to its new value (replaced where present, else added).
    private static string[] With(string[] flags, params string[] pairs)
    {
        var list = flags.ToList();
        for (int i = 0; i < pairs.Length; i += 2)
        {
            int at = list.IndexOf(pairs[i]);
            if (at >= 0)
                list[at + 1] = pairs[i + 1];
            else
                list.AddRange([pairs[i], pairs[i + 1]]);
        }
        return [.. list];
    }

    private static string ModelFile(string run) => Path.Combine(run, "model", "model.safetensors");

    // The largest ‖a − b‖ / ‖a‖ (Frobenius) over the tensors of two weight files. A norm, not the
    // largest element: AdamW moves a weight whose gradient nearly cancels by about the learning
    // rate whatever the gradient's size, so a summation-order difference in such a gradient
    // shows in that one element but not in the tensor.
    private static double RelativeDifference(string a, string b)
    {
        using var fa = SafeTensorsFile.Open(a);
        using var fb = SafeTensorsFile.Open(b);
        Assert.Equal(fa.Entries.Select(e => e.Name), fb.Entries.Select(e => e.Name));
        double worst = 0;
        foreach (var e in fa.Entries)
        {
            var x = fa.Read(e.Name).ToArray();
            var y = fb.Read(e.Name).ToArray();
            double norm = Math.Sqrt(x.Sum(v => (double)v * v));
            double diff = Math.Sqrt(x.Zip(y, (p, q) => ((double)p - q) * ((double)p - q)).Sum());
            worst = Math.Max(worst, diff / Math.Max(norm, 1e-12));
        }
        return worst;
    }

    private static JsonObject Summary(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();

    private static double LastMetric(string run, string key) => File.ReadLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonNode.Parse(l)!.AsObject())
        .Last(o => o.ContainsKey(key))[key]!.GetValue<double>();

    private static void AssertRan((int Code, string Out, string Err) run, string what) =>
        Assert.True(run.Code == 0, $"{what} exited {run.Code}\nstdout:\n{run.Out}\nstderr:\n{run.Err}");

    [Theory]
    [InlineData("sft", 2)]
    [InlineData("rm", 2)]
    [InlineData("dpo", 2)]
    [InlineData("dpo-rpo", 2)]
    [InlineData("sft", 3)]
    public void RanksTrainTheSameModelAsOneProcess(string verb, int ranks)
    {
        var one = Path.Combine(_dir, "one");
        var many = Path.Combine(_dir, "many");
        AssertRan(RlhfProcess.Run(Limit, Flags(verb, one)), "one process");
        var run = RlhfProcess.RunRanks(ranks, Limit, Flags(verb, many));
        AssertRan(run, $"{ranks} ranks");

        // batch_size is the global batch: every rank took its share (3 ranks: 2+2+2 of 6, 3+3+2 of 8).
        double diff = RelativeDifference(ModelFile(one), ModelFile(many));
        Assert.True(diff <= 1e-5, $"{verb} on {ranks} ranks ends {diff:E2} (relative) away from one process");
        Assert.Equal(LastMetric(one, "train/loss"), LastMetric(many, "train/loss"), 1e-5);
        Assert.Equal(LastMetric(one, "train/grad_norm"), LastMetric(many, "train/grad_norm"), 1e-4);
        Assert.Equal(ranks, Summary(many)["distributed/ranks"]!.GetValue<int>());
        // Only rank 0 writes the console: one summary block, not one per rank.
        Assert.Equal(1, run.Out.Split('\n').Count(l => l.StartsWith("run folder:", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("grpo")]
    [InlineData("online-dpo")]
    [InlineData("grpo-rpp")]
    [InlineData("grpo-remax")]
    public void RlRanksDrawTheSameRolloutsAndTrainTheSameModel(string verb)
    {
        var one = Path.Combine(_dir, "one");
        var two = Path.Combine(_dir, "two");
        AssertRan(RlhfProcess.Run(Limit, Flags(verb, one, 6)), "one process");
        AssertRan(RlhfProcess.RunRanks(2, Limit, Flags(verb, two, 6)), "two ranks");

        // Each row draws from its own generator: the ranks answer as one process would, so the
        // lengths and scores of every step's whole batch agree (each rank scored its own rows).
        string[] same = verb switch
        {
            "ppo" => ["rollout/response_length", "objective/scores", "objective/kl", "objective/entropy", "val/explained_variance", "policy/approxkl", "loss/value"],
            "online-dpo" => ["completions/mean_length", "objective/scores", "objective/scores_margin", "objective/kl", "loss", "train/grad_norm"],
            "grpo-rpp" => ["completions/mean_length", "reward", "objective/kl", "loss"],
            "grpo-remax" => ["completions/mean_length", "reward", "remax/greedy_score", "loss"],
            _ => ["completions/mean_length", "reward", "reward_std", "kl", "loss"],
        };
        foreach (var key in same)
        {
            var a = Series(one, key);
            var b = Series(two, key);
            Assert.Equal(a.Length, b.Length);
            for (int i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * Math.Max(1, Math.Abs(a[i])), $"{verb} {key} at step {i + 1}: one process {a[i]}, two ranks {b[i]}");
        }
        double diff = RelativeDifference(ModelFile(one), ModelFile(two));
        Assert.True(diff <= 1e-5, $"{verb} on 2 ranks ends {diff:E2} (relative) away from one process");
    }

    private static double[] Series(string run, string key) => [.. File.ReadLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonNode.Parse(l)!.AsObject())
        .Where(o => o.ContainsKey(key))
        .Select(o => o[key]!.GetValue<double>())];

    [Fact]
    public void ZeroStageOneChangesOnlyTheMemory()
    {
        var plain = Path.Combine(_dir, "plain");
        var zero = Path.Combine(_dir, "zero");
        AssertRan(RlhfProcess.RunRanks(2, Limit, Flags("dpo", plain)), "zero_stage 0");
        AssertRan(RlhfProcess.RunRanks(2, Limit, With(Flags("dpo", zero), "--zero_stage", "1")), "zero_stage 1");

        // The owner of each parameter applies the same update the unsharded ranks do.
        Assert.Equal(File.ReadAllBytes(ModelFile(plain)), File.ReadAllBytes(ModelFile(zero)));
        double whole = Summary(plain)["memory/optimizer_state_mb_per_rank"]!.GetValue<double>();
        double split = Summary(zero)["memory/optimizer_state_mb_per_rank"]!.GetValue<double>();
        Assert.InRange(split / whole, 0.45, 0.6);
        var checkpoint = Directory.GetDirectories(zero, "checkpoint-*").Single();
        Assert.True(File.Exists(Path.Combine(checkpoint, "optimizer.shard-0-of-2.bin")));
        Assert.True(File.Exists(Path.Combine(checkpoint, "optimizer.shard-1-of-2.bin")));
        Assert.False(File.Exists(Path.Combine(checkpoint, "optimizer.bin")));
    }

    [Fact]
    public void AZeroOneRunResumesOnOneRank()
    {
        // A constant learning rate, so stopping at step 10 and going on to 20 is the same schedule as 20 straight.
        string[] Args(string run, int steps) => With(Flags("sft", run, steps), "--lr_scheduler", "constant", "--zero_stage", "1", "--save_every", "5");
        var straight = Path.Combine(_dir, "straight");
        var split = Path.Combine(_dir, "split");
        AssertRan(RlhfProcess.RunRanks(2, Limit, Args(straight, 20)), "straight");
        AssertRan(RlhfProcess.RunRanks(2, Limit, Args(split, 10)), "first half on two ranks");
        File.Delete(Path.Combine(split, "summary.json"));
        AssertRan(RlhfProcess.Run(Limit, "sft", "--resume", split, "--max_steps", "20"), "second half on one rank");

        // The moments of both shards were merged; the two halves match the straight run.
        double diff = RelativeDifference(ModelFile(straight), ModelFile(split));
        Assert.True(diff <= 1e-5, $"resumed on one rank, the run ends {diff:E2} (relative) away from the straight two-rank run");
    }

    [Fact]
    public void AKilledTwoRankRunResumesBitIdentical()
    {
        string[] Args(string run) => With(Flags("sft", run, 36), "--save_every", "3");
        var straight = Path.Combine(_dir, "straight");
        var killed = Path.Combine(_dir, "killed");
        AssertRan(RlhfProcess.RunRanks(2, Limit, Args(straight)), "straight");

        using (var p = RlhfProcess.LaunchRanks(2, Args(killed)))
        {
            var watch = Stopwatch.StartNew();
            while (!p.HasExited && ResumeAfterKillTests.LatestCheckpoint(killed) < 12 && watch.Elapsed < Limit)
                Thread.Sleep(2);
            Assert.False(p.HasExited, "the run ended before it could be killed; the test proves nothing");
            p.Kill(); // SIGKILL to mpirun and both ranks
        }
        Assert.InRange(ResumeAfterKillTests.LatestCheckpoint(killed), 12, 35);
        AssertRan(RlhfProcess.RunRanks(2, Limit, "sft", "--resume", killed), "resumed");
        Assert.Equal(File.ReadAllBytes(ModelFile(straight)), File.ReadAllBytes(ModelFile(killed)));
    }

    [Fact]
    public void AKilledRankStopsTheOthersNamingIt()
    {
        var run = Path.Combine(_dir, "run");
        using var p = RlhfProcess.LaunchRanks(2, With(Flags("sft", run, 100_000), "--dist_timeout_s", "20", "--save_every", "0", "--eval_every", "0"));
        WaitForSteps(p, run, 2);
        Kill(p.RankProcessId(1, TimeSpan.FromSeconds(10)), "KILL");
        var watch = Stopwatch.StartNew();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(40)), "rank 0 still runs 40 s after rank 1 was killed");
        Assert.NotEqual(0, p.ExitCode);
        Assert.Contains("rank 1", p.Stdout + p.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AStalledRankIsNamedWithinTheTimeout()
    {
        var run = Path.Combine(_dir, "run");
        using var p = RlhfProcess.LaunchRanks(2, With(Flags("sft", run, 100_000), "--dist_timeout_s", "4", "--save_every", "0", "--eval_every", "0"));
        WaitForSteps(p, run, 2);
        int stalled = p.RankProcessId(1, TimeSpan.FromSeconds(10));
        Kill(stalled, "STOP"); // alive but never reaching the next collective: a hang, not a crash
        try
        {
            var watch = Stopwatch.StartNew();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(40)), "rank 0 still waits 40 s after rank 1 stopped, with a 4 s timeout");
            Assert.Equal(4, p.ExitCode);
            Assert.Contains("rank 1 never reached it", p.Stderr, StringComparison.Ordinal);
            Assert.Contains("did not complete within 4 s", p.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Kill(stalled, "KILL");
        }
    }

    [Fact]
    public void ThePipelineRunsItsStagesOnTwoRanks()
    {
        var run = Path.Combine(_dir, "pipeline");
        var (data, _, _) = Setup(); // a small built-in task, so the stages are short
        var (code, output, error) = RlhfProcess.RunRanks(2, Limit, "pipeline", "--out", run, "--data", data, "--set", "stages=[sft, label, rm, dpo]",
            "--steps_scale", "0.01", "--eval_prompts", "4", "--threads", "1");
        Assert.True(code == 0, $"exited {code}\n{output}\n{error}");
        // The trainers ran on both ranks; rank 0 alone labelled, compared and wrote the results.
        foreach (var stage in new[] { "sft", "rm", "dpo" })
            Assert.Equal(2, Summary(Path.Combine(run, stage))["distributed/ranks"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(run, "label", "prefs_train.jsonl")));
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        Assert.Equal(["sft", "dpo"], results["policies"]!.AsArray().Select(r => r!["policy"]!.GetValue<string>()));
        Assert.Equal(1, output.Split('\n').Count(l => l.StartsWith("| policy |", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void DistCheckPassesOnThreeRanks()
    {
        var (code, output, error) = RlhfProcess.RunRanks(3, Limit, "dist-check", "--megabytes", "1", "--repeats", "3");
        Assert.True(code == 0, $"dist-check exited {code}\n{output}\n{error}");
        Assert.Contains("3 rank(s); MPI in use", output, StringComparison.Ordinal);
        Assert.Equal(9, output.Split('\n').Count(l => l.TrimEnd().EndsWith(" ok", StringComparison.Ordinal)));
        Assert.Contains("every collective gave the right result", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AVerbThatIsNotDataParallelRefusesSeveralRanks()
    {
        // Two ranks would both label the same prompts and write the same files.
        var (code, _, error) = RlhfProcess.RunRanks(2, Limit, "label", "--out", Path.Combine(_dir, "label"));
        Assert.Equal(2, code);
        Assert.Contains("'rlhf label' runs in one process; start it without mpirun", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "label")));
    }

    [Fact]
    public void ABatchSmallerThanTheRanksIsRefusedByName()
    {
        var (code, _, error) = RlhfProcess.RunRanks(2, Limit, With(Flags("rm", Path.Combine(_dir, "run")), "--batch_size", "1"));
        Assert.NotEqual(0, code);
        Assert.Contains("batch_size (1) is the global micro-batch", error, StringComparison.Ordinal);
    }

    private static void WaitForSteps(RlhfProcess p, string run, int steps)
    {
        var metrics = Path.Combine(run, "metrics.jsonl");
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Limit)
        {
            Assert.False(p.HasExited, $"the run ended early\n{p.Stdout}\n{p.Stderr}");
            if (File.Exists(metrics) && ReadShared(metrics).Count(l => l.Contains("\"train/loss\"", StringComparison.Ordinal)) >= steps)
                return;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no {steps} steps logged within {Limit}");
    }

    private static string[] ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n');
    }

    private static void Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }
}
