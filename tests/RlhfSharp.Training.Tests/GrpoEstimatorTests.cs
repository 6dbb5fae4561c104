using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Reinforce;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// <c>rlhf grpo</c> with REINFORCE++, ReMax, DAPO's overlong punishment and dynamic sampling, and the
/// dual-clip and GSPO losses, on a small built-in task with a tiny random policy.
/// </summary>
public sealed class GrpoEstimatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grpo-est-").FullName;
    private readonly BpeTokenizer _tokenizer;

    public GrpoEstimatorTests()
    {
        _tokenizer = TinyRlTask.Write(DataDir, SftDir);
        TinyRlTask.WriteRewardModel(_tokenizer, RmDir);
    }

    private string RmDir => Path.Combine(_dir, "rm");

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GrpoConfig Config(string advantage) => new()
    {
        Data = DataDir,
        Model = SftDir,
        RewardModel = RmDir,
        Advantage = advantage,
        BatchSize = 4,
        NumGenerations = 4,
        MiniBatchSize = 8,
        NumIterations = 2,
        MaxSteps = 2,
        ResponseLength = 6,
        LearningRate = 1e-2f,
        EvalEvery = 2,
        SaveEvery = 2,
        EvalPrompts = 6,
        Threads = 1,
    };

    // Scores an answer by its length in characters: answers of a random policy differ.
    private sealed class LengthReward : IRewardSource
    {
        public string Name => "length";

        public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => [.. responses.Select(r => r.Length / 10.0)];
    }

    private GrpoLearner Learner(GrpoConfig cfg, IRewardSource? reward = null, Func<IReadOnlyList<PromptExample>>? nextPrompts = null)
    {
        var policy = PretrainedIO.LoadCausalLM(SftDir);
        var reference = PretrainedIO.LoadCausalLM(SftDir);
        reference.Freeze();
        var gold = new GoldRewardSource();
        var inputs = new TrainerInputs(_tokenizer, ChatTemplate.Get("chatml"), gold);
        var mixture = new RewardMixture([new RewardComponent(reward ?? gold, 1)], normalize: false);
        return new GrpoLearner(cfg, new RlContext(inputs, policy, reference, mixture, inputs.PromptCollator(cfg.MaxPromptLength), DataParallel.Start(cfg, "")) { NextPrompts = nextPrompts });
    }

    private List<PromptExample> Prompts() => [.. PromptDataset.Load(Path.Combine(DataDir, "prompts_train.jsonl"), new DataLoadOptions())];

    private static List<JsonObject> Steps(string run) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => l.ContainsKey("reward_std"))];

    private static float[][] Weights(CausalLM m) => [.. m.NamedParameters().Select(p => p.Param.Value.ToArray())];

    [Theory]
    [InlineData("reinforce_plus_plus", "ppo_clip", "objective/kl")]
    [InlineData("reinforce_plus_plus_baseline", "ppo_clip", "objective/non_score_reward")]
    [InlineData("remax", "ppo_clip", "remax/greedy_score")]
    [InlineData("grpo", "dual_clip", "clip_ratio/lower")]
    [InlineData("grpo", "gspo", "clip_ratio")]
    public void EachEstimatorAndLossRunsEndToEndWithItsMetrics(string advantage, string policyLoss, string metric)
    {
        var run = Path.Combine(_dir, advantage + policyLoss);
        var cfg = Config(advantage);
        cfg.PolicyLoss = policyLoss;
        Assert.Empty(cfg.Validate());
        var summary = GrpoTrainer.Run(cfg, run, resume: false);
        foreach (var key in new[] { "eval/gold_score", "eval/win_rate_vs_ref", "reward", "kl" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var steps = Steps(run);
        Assert.Equal(2, steps.Count);
        Assert.True(steps[0].ContainsKey(metric), $"missing {metric}");
        Assert.True(double.IsFinite(steps[^1]["loss"]!.GetValue<double>()));
        Assert.NotEqual(Weights(PretrainedIO.LoadCausalLM(SftDir)), Weights(PretrainedIO.LoadCausalLM(Path.Combine(run, "model"))));
    }

    [Fact]
    public void ReinforcePlusPlusAdvantagesAreTheFormulaOnTheStepsKlAndScores()
    {
        var cfg = Config("reinforce_plus_plus");
        cfg.InitKlCoef = 0.5f;
        Assert.Equal(0, cfg.EffectiveBeta); // the KL is in the reward, not the loss
        var learner = Learner(cfg, new LengthReward());
        var prompts = Prompts();
        learner.Step(prompts.Take(4).ToList(), 0);
        var m = learner.Step(prompts.Skip(4).Take(4).ToList(), 1).Metrics; // the policy has moved: the KL is not 0
        var (inputs, advantages) = learner.LastAdvantages!.Value;
        Assert.Equal(0.5, inputs.Beta);
        Assert.NotNull(inputs.Kl);
        Assert.True(m["objective/kl"] != 0, "the policy moved, so the KL in the reward is not 0");
        Assert.Equal(learner.LastScored!.Scores, inputs.Scores!.ToDoubleArray());
        var (want, _) = ReinforcePlusPlus.Compute(inputs.Scores!, inputs.Kl, inputs.ResponseMask, 0.5);
        Assert.Equal(want.ToDoubleArray(), advantages.ToDoubleArray());
        Assert.Equal(-0.5 * m["objective/kl"], m["objective/non_score_reward"], 12);
    }

    [Fact]
    public void RemaxBaselineIsTheScoreOfTheGreedyAnswer()
    {
        var cfg = Config("remax");
        var learner = Learner(cfg, new LengthReward());
        var prompts = Prompts().Take(4).ToList();
        // Before the step the policy is the saved one: its greedy answers are the baseline's.
        var policy = PretrainedIO.LoadCausalLM(SftDir);
        var collator = new TrainerInputs(_tokenizer, ChatTemplate.Get("chatml"), null).PromptCollator(cfg.MaxPromptLength);
        var greedy = Rollouts.Generate(policy, collator, _tokenizer, prompts, cfg.RolloutSampling(_tokenizer) with { DoSample = false }, new Generator(99));
        var greedyScores = ((IRewardSource)new LengthReward()).ScoreExamples(prompts, greedy.Texts);

        var m = learner.Step(prompts, 0).Metrics;
        var (inputs, advantages) = learner.LastAdvantages!.Value;
        var want = Enumerable.Range(0, 16).Select(r => greedyScores[r / 4]).ToArray();
        Assert.Equal(want, inputs.GreedyScores!.ToDoubleArray());
        Assert.Equal(greedyScores.Average(), m["remax/greedy_score"], 12);
        var scores = inputs.Scores!.ToDoubleArray();
        var adv = advantages.ToDoubleArray();
        int t = advantages.Size(1);
        for (int r = 0; r < 16; r++)
            Assert.Equal(scores[r] - want[r], adv[r * t], 12); // every real token carries s − s_greedy; the first is real
    }

    [Fact]
    public void OverlongPenaltyFallsOnTruncatedAnswersOnly()
    {
        var cfg = Config("grpo");
        cfg.OverlongBufferLen = 1; // the band is length = response_length: only answers cut at the limit
        cfg.OverlongPenaltyFactor = 0.5f;
        cfg.Temperature = 2f; // long and short answers both
        var learner = Learner(cfg);
        var m = learner.Step(Prompts().Take(4).ToList(), 0).Metrics;
        var s = learner.LastScored!;
        Assert.Contains(s.Rollout.Ended, e => !e);
        for (int r = 0; r < s.Rollout.Count; r++)
        {
            double want = s.Rollout.Lengths[r] < cfg.ResponseLength ? 0 : -0.5;
            Assert.Equal(want, s.Penalties[r]);
            if (!s.Rollout.Ended[r])
                Assert.Equal(-0.5, s.Penalties[r]);
            Assert.Equal(s.Gold![r] + want, s.Scores[r], 12); // the gold scorer is the reward, so the score is gold plus the penalty
        }
        Assert.Equal(s.Penalties.Average(), m["overlong/penalty"], 12);
    }

    // Scores 0 for every answer to the prompts it is told to starve, else the answer's length in characters.
    private sealed class StarvingReward(HashSet<int> starvedLines) : IRewardSource
    {
        public string Name => "starving";

        public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => throw new NotSupportedException();

        public double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses) =>
            [.. prompts.Select((p, i) => starvedLines.Contains(p.Line) ? 0.0 : responses[i].Length + (0.01 * i))];
    }

    [Fact]
    public void DynamicSamplingDropsEqualGroupsAndRefillsFromTheLoader()
    {
        var cfg = Config("grpo");
        cfg.FilterGroups = true;
        cfg.MaxNumGenBatches = 3;
        var prompts = Prompts();
        var first = prompts.Take(4).ToList();
        int extra = 4;
        var learner = Learner(cfg, new StarvingReward([.. first.Select(p => p.Line)]), () => prompts.Skip(extra).Take(4).ToList().Also(() => extra += 4));
        var m = learner.Step(first, 0).Metrics;
        Assert.Equal(2, m["dynamic_sampling/gen_batches"]); // the first round is dropped whole, the second fills the batch
        Assert.Equal(4, m["dynamic_sampling/dropped_groups"]);
        Assert.Equal(4, m["dynamic_sampling/resampled_prompts"]);
        Assert.Equal(0, m["dynamic_sampling/topped_up_groups"]);
        Assert.Equal(1, m["dynamic_sampling/first_round_zero_std"]);
        Assert.Equal(0, m["frac_reward_zero_std"]);
        var s = learner.LastScored!;
        Assert.Equal(16, s.Rollout.Count);
        Assert.All(s.Rollout.Prompts, p => Assert.DoesNotContain(first, f => f.Line == p.Line));

        // Every prompt starved: max_num_gen_batches rounds, then the batch is topped up with dropped groups.
        learner = Learner(cfg, new StarvingReward([.. prompts.Select(p => p.Line)]), () => prompts.Take(4).ToList());
        m = learner.Step(first, 0).Metrics;
        Assert.Equal(3, m["dynamic_sampling/gen_batches"]);
        Assert.Equal(12, m["dynamic_sampling/dropped_groups"]);
        Assert.Equal(4, m["dynamic_sampling/topped_up_groups"]);
        Assert.Equal(16, learner.LastScored!.Rollout.Count);
    }

    [Fact]
    public void DynamicSamplingResumesBitIdentically()
    {
        // The gold scorer gives the random policy's answers all −1: every round is dropped, so each step
        // spends max_num_gen_batches rounds of the loader's prompts and tops the batch up.
        static GrpoConfig Gold(GrpoConfig c)
        {
            c.RewardModel = null;
            c.RewardFuncs = ["gold"];
            c.FilterGroups = true;
            return c;
        }

        var cfg = Gold(Config("grpo"));
        cfg.MaxSteps = 4;
        var straight = Path.Combine(_dir, "ds");
        GrpoTrainer.Run(cfg, straight, resume: false);
        Assert.All(Steps(straight), s => Assert.Equal(4, s["dynamic_sampling/gen_batches"]!.GetValue<double>()));

        var split = Path.Combine(_dir, "ds-split");
        var half = Gold(Config("grpo"));
        half.MaxSteps = 2;
        GrpoTrainer.Run(half, split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        GrpoTrainer.Run(cfg, split, resume: true);
        Assert.Equal(Weights(PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"))), Weights(PretrainedIO.LoadCausalLM(Path.Combine(split, "model"))));
    }

    [Fact]
    public void RoundsWithDifferentPromptAndResponseWidthsJoinWithTheirLogProbsUnchanged()
    {
        var cfg = Config("grpo");
        var policy = PretrainedIO.LoadCausalLM(SftDir);
        var collator = new TrainerInputs(_tokenizer, ChatTemplate.Get("chatml"), null).PromptCollator(cfg.MaxPromptLength);
        var byLength = Prompts().OrderBy(p => p.Messages[^1].Content.Length).ToList();
        var options = cfg.RolloutSampling(_tokenizer);
        var a = Rollouts.Generate(policy, collator, _tokenizer, byLength.Take(2).ToList(), options, new Generator(1));
        var b = Rollouts.Generate(policy, collator, _tokenizer, byLength.TakeLast(2).ToList(), options with { MaxNewTokens = 3 }, new Generator(2));
        Assert.NotEqual(a.PromptLength, b.PromptLength);
        Assert.NotEqual(a.ResponseColumns, b.ResponseColumns);
        var joined = RolloutConcat.Concat([a, b], _tokenizer.PadTokenId ?? 0);
        Assert.Equal(Math.Max(a.PromptLength, b.PromptLength), joined.PromptLength);
        Assert.Equal(Math.Max(a.ResponseColumns, b.ResponseColumns), joined.ResponseColumns);
        Assert.Equal([.. a.Texts, .. b.Texts], joined.Texts);
        Assert.Equal([.. a.Lengths, .. b.Lengths], joined.Lengths);
        Assert.Equal(a.Lengths.Sum() + b.Lengths.Sum(), joined.ResponseMask.ToArray().Sum());
        var joinedLogp = Rollouts.LogProbs(policy, joined, 1f).ToArray();
        void SameLogProbs(RolloutBatch part, int firstRow)
        {
            var want = Rollouts.LogProbs(policy, part, 1f).ToArray();
            for (int r = 0; r < part.Count; r++)
            {
                for (int k = 0; k < part.Lengths[r]; k++)
                    Assert.Equal(want[(r * part.ResponseColumns) + k], joinedLogp[((firstRow + r) * joined.ResponseColumns) + k], 4);
            }
        }

        SameLogProbs(a, 0);
        SameLogProbs(b, a.Count);

        var broken = a with { PromptLength = a.PromptLength + 1 };
        var e = Assert.Throws<ArgumentException>(() => RolloutConcat.Concat([broken, b], 0));
        Assert.Contains("are not its prompt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MismatchedSettingsNameTheirKeys()
    {
        static List<string> Problems(GrpoConfig c) => [.. c.Validate()];
        var cfg = Config("remax");
        cfg.NumGenerations = 1;
        cfg.MiniBatchSize = 0;
        Assert.Empty(Problems(cfg)); // ReMax's baseline is the greedy answer: one sample per prompt is enough
        cfg.FilterGroups = true;
        Assert.Contains(Problems(cfg), p => p.Contains("filter_groups", StringComparison.Ordinal) && p.Contains("num_generations", StringComparison.Ordinal));
        Assert.Contains(Problems(cfg), p => p.Contains("filter_groups", StringComparison.Ordinal) && p.Contains("'remax'", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.OverlongBufferLen = 7;
        Assert.Contains(Problems(cfg), p => p.Contains("overlong_buffer_len (7)", StringComparison.Ordinal) && p.Contains("response_length", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.OverlongBufferLen = 2;
        cfg.OverlongMaxLength = 9;
        Assert.Contains(Problems(cfg), p => p.Contains("overlong_max_length (9) exceeds response_length (6)", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.PolicyLoss = "gspo";
        Assert.Equal(Alignment.LossAggregation.SeqMeanTokenMean, cfg.ParsedAggregation);
        cfg.LossAggregationMode = "token_mean";
        Assert.Contains(Problems(cfg), p => p.Contains("loss_aggregation", StringComparison.Ordinal) && p.Contains("gspo", StringComparison.Ordinal));
        cfg = Config("reinforce_plus_plus");
        cfg.KlEstimator = "k9";
        cfg.DualClipC = 1;
        cfg.Gamma = 2;
        var problems = Problems(cfg);
        Assert.Contains(problems, p => p.Contains("kl_estimator", StringComparison.Ordinal) && p.Contains("k1, k2, k3", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("dual_clip_c", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("gamma", StringComparison.Ordinal));
        cfg = Config("grpo");
        cfg.FilterGroups = true;
        cfg.MaxNumGenBatches = 0;
        Assert.Contains(Problems(cfg), p => p.Contains("max_num_gen_batches", StringComparison.Ordinal));
    }
}

internal static class SideEffects
{
    /// <summary>Returns <paramref name="value"/> after running <paramref name="after"/>.</summary>
    public static T Also<T>(this T value, Action after)
    {
        after();
        return value;
    }
}
