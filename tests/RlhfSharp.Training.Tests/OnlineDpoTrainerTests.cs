using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf online-dpo</c> on a small built-in task with a tiny random policy, judged by the gold scorer or the task's constitution.</summary>
public sealed class OnlineDpoTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onlinedpo-").FullName;

    public OnlineDpoTrainerTests()
    {
        TinyRlTask.Write(DataDir, SftDir, trainPrompts: 60, evalPrompts: 8);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private OnlineDpoConfig Config(string judge = "reward") => new()
    {
        Data = DataDir,
        Model = SftDir,
        RewardFuncs = ["gold"],
        Judge = judge,
        BatchSize = 4,
        GradientAccumulationSteps = 2,
        MissingEosPenalty = 1,
        MaxSteps = 4,
        ResponseLength = 6,
        LearningRate = 1e-2f,
        EvalEvery = 2,
        SaveEvery = 2,
        EvalPrompts = 4,
        Threads = 1,
    };

    private static float[][] Weights(CausalLM m) => [.. m.NamedParameters().Select(p => p.Param.Value.ToArray())];

    private static List<JsonObject> Steps(string run) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => l.ContainsKey("objective/scores"))];

    [Fact]
    public void RunsLogsTrlMetricsAndResumesBitIdentically()
    {
        var straight = Path.Combine(_dir, "straight");
        var summary = OnlineDpoTrainer.Run(Config(), straight, resume: false);
        foreach (var key in new[] { "eval/gold_score", "eval/gold_score_ref", "eval/win_rate_vs_ref", "objective/scores", "objective/kl", "model" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var steps = Steps(straight);
        Assert.Equal(4, steps.Count);
        string[] trl = ["objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
            "objective/scores_margin", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
            "logps/rejected", "val/contain_eos_token", "beta", "objective/gold_score", "objective/tie_fraction", "loss", "train/grad_norm"];
        var full = steps.Where(s => s.ContainsKey("rewards/chosen")).ToList();
        Assert.NotEmpty(full);
        foreach (var key in trl)
            Assert.True(full[^1].ContainsKey(key), $"missing {key}");
        foreach (var s in steps)
        {
            // The pair the judge chose scores at least as high as the other, and gold is the only reward: scores = gold less the EOS penalty.
            Assert.True(s["objective/scores_margin"]!.GetValue<double>() >= 0);
            Assert.True(s["objective/scores"]!.GetValue<double>() <= s["objective/gold_score"]!.GetValue<double>() + 1e-9);
            Assert.Equal(0.1, s["beta"]!.GetValue<double>(), 6);
        }
        // Step 1 scores the reference itself: no KL yet. Later steps see a moved policy.
        Assert.Equal(0, steps[0]["objective/kl"]!.GetValue<double>(), 5);
        Assert.NotEqual(0, steps[^1]["objective/kl"]!.GetValue<double>());
        Assert.NotEqual(Weights(PretrainedIO.LoadCausalLM(SftDir)), Weights(PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"))));

        var split = Path.Combine(_dir, "split");
        var half = Config();
        half.MaxSteps = 2;
        OnlineDpoTrainer.Run(half, split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        OnlineDpoTrainer.Run(Config(), split, resume: true);
        Assert.Equal(Weights(PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"))), Weights(PretrainedIO.LoadCausalLM(Path.Combine(split, "model"))));
    }

    [Fact]
    public void TheConstitutionJudgesWhenAsked()
    {
        var cfg = Config("constitution");
        cfg.MaxSteps = 2;
        cfg.EvalEvery = 0;
        cfg.SaveEvery = 0;
        var run = Path.Combine(_dir, "constitution");
        OnlineDpoTrainer.Run(cfg, run, resume: false);

        // The logged scores are the constitution's (a sum of principle weights, never below 0 less the penalty), not gold's.
        var constitution = Constitution.Load(Path.Combine(DataDir, "constitution.yaml"));
        double most = constitution.Principles.Sum(p => p.Weight);
        var steps = Steps(run);
        Assert.Equal(2, steps.Count);
        foreach (var s in steps)
        {
            double score = s["objective/scores"]!.GetValue<double>();
            Assert.InRange(score, -cfg.MissingEosPenalty, most);
            Assert.False(s.ContainsKey("reward/gold"), "the reward does not judge when the constitution does");
        }
    }

    [Fact]
    public void AMissingConstitutionFileIsAUserErrorNamingIt()
    {
        var cfg = Config("constitution");
        cfg.Constitution = Path.Combine(_dir, "nowhere.yaml");
        var e = Assert.Throws<ConstitutionException>(() => OnlineDpoTrainer.Run(cfg, Path.Combine(_dir, "bad"), resume: false));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Contains("nowhere.yaml", e.Message);
    }

    [Fact]
    public void BadSettingsNameTheirKey()
    {
        var cfg = Config("pairwise_lm");
        Assert.Contains(cfg.Validate(), p => p.Contains("judge must be reward", StringComparison.Ordinal) && p.Contains("pairwise_lm", StringComparison.Ordinal));
        cfg = Config("constitution");
        cfg.Data = null;
        cfg.TrainFile = Path.Combine(DataDir, "prompts_train.jsonl");
        Assert.Contains(cfg.Validate(), p => p.Contains("constitution needs a constitution file", StringComparison.Ordinal));
        cfg.Constitution = Path.Combine(DataDir, "constitution.yaml");
        Assert.Empty(cfg.Validate());
        cfg = Config();
        cfg.LossType = "hinge";
        Assert.Contains(cfg.Validate(), p => p.Contains("loss_type", StringComparison.Ordinal));
        cfg = Config();
        cfg.Beta = 0;
        Assert.Contains(cfg.Validate(), p => p.Contains("beta", StringComparison.Ordinal));
        cfg = Config();
        cfg.MissingEosPenalty = -1;
        Assert.Contains(cfg.Validate(), p => p.Contains("missing_eos_penalty", StringComparison.Ordinal));
        cfg = Config();
        cfg.GradientAccumulationSteps = 3;
        Assert.Contains(cfg.Validate(), p => p.Contains("gradient_accumulation_steps", StringComparison.Ordinal));
        cfg = Config();
        cfg.RewardFuncs = [];
        Assert.Contains(cfg.Validate(), p => p.Contains("no reward", StringComparison.Ordinal));
    }
}
