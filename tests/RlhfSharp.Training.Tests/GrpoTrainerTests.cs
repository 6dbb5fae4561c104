using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf grpo</c> on a small built-in task with a tiny random policy and the gold scorer as reward.</summary>
public sealed class GrpoTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grpo-").FullName;

    public GrpoTrainerTests()
    {
        TinyRlTask.Write(DataDir, SftDir);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GrpoConfig Config(string advantage) => new()
    {
        Data = DataDir,
        Model = SftDir,
        RewardFuncs = ["gold"],
        NormalizeRewards = advantage == "rloo", // the running normaliser is checkpointed too
        Advantage = advantage,
        BatchSize = 4,
        NumGenerations = 4,
        MiniBatchSize = 8,
        GradientAccumulationSteps = 2,
        NumIterations = 2,
        MaxSteps = 4,
        ResponseLength = 6,
        LearningRate = 1e-2f,
        EvalEvery = 2,
        SaveEvery = 2,
        EvalPrompts = 6,
        Threads = 1,
    };

    private static float[][] Weights(CausalLM m) => [.. m.NamedParameters().Select(p => p.Param.Value.ToArray())];

    [Theory]
    [InlineData("grpo")]
    [InlineData("rloo")]
    public void RunsLogsTrlMetricsAndResumesBitIdentically(string advantage)
    {
        var straight = Path.Combine(_dir, advantage);
        var summary = GrpoTrainer.Run(Config(advantage), straight, resume: false);
        Assert.Contains(File.ReadLines(Path.Combine(straight, "metrics.jsonl")), l => l.Contains("\"reward/gold\"", StringComparison.Ordinal));
        foreach (var key in new[] { "time/total_s", "eval/gold_score", "eval/win_rate_vs_ref", "reward", "kl", "model" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var lines = File.ReadLines(Path.Combine(straight, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var steps = lines.Where(l => l.ContainsKey("reward_std")).ToList();
        Assert.Equal(4, steps.Count);
        foreach (var key in new[] { "reward", "reward_std", "frac_reward_zero_std", "kl", "clip_ratio", "entropy", "completions/mean_length", "objective/gold_score", "time/generate" })
            Assert.True(steps[0].ContainsKey(key), $"missing {key}");
        // Two passes per batch: the second sees a moved policy, so the KL to the reference is positive by then.
        Assert.True(steps[^1]["kl"]!.GetValue<double>() > 0);
        Assert.NotEqual(Weights(PretrainedIO.LoadCausalLM(SftDir)), Weights(PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"))));

        var split = Path.Combine(_dir, advantage + "-split");
        var half = Config(advantage);
        half.MaxSteps = 2;
        GrpoTrainer.Run(half, split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        GrpoTrainer.Run(Config(advantage), split, resume: true);
        Assert.Equal(Weights(PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"))), Weights(PretrainedIO.LoadCausalLM(Path.Combine(split, "model"))));
    }

    [Fact]
    public void BadSettingsNameTheirKey()
    {
        var cfg = Config("grpo");
        cfg.NumGenerations = 1;
        Assert.Contains(cfg.Validate(), p => p.Contains("num_generations", StringComparison.Ordinal));
        cfg = Config("reinforce");
        Assert.Contains(cfg.Validate(), p => p.Contains("advantage", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.MiniBatchSize = 5;
        Assert.Contains(cfg.Validate(), p => p.Contains("mini_batch_size", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.RewardFuncs = [];
        Assert.Contains(cfg.Validate(), p => p.Contains("no reward", StringComparison.Ordinal));
    }
}
