using System.Text.Json.Nodes;
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

namespace RlhfSharp.Training.Tests;

/// <summary>The PPO step and trainer on a small built-in task with tiny random models.</summary>
public sealed class PpoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ppo-").FullName;
    private readonly BpeTokenizer _tokenizer;

    public PpoTests()
    {
        _tokenizer = TinyRlTask.Write(DataDir, SftDir, preferencePairs: 40);
        TinyRlTask.WriteRewardModel(_tokenizer, RmDir);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    private string RmDir => Path.Combine(_dir, "rm");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PpoConfig Config() => new()
    {
        Data = DataDir,
        Model = SftDir,
        RewardModel = RmDir,
        BatchSize = 8,
        MiniBatchSize = 4,
        GradientAccumulationSteps = 2,
        PpoEpochs = 2,
        MaxSteps = 4,
        ResponseLength = 8,
        LearningRate = 1e-2f,
        EvalEvery = 2,
        SaveEvery = 2,
        EvalPrompts = 6,
        Threads = 1,
    };

    // The gold scorer is the reward and the gold score; the critic starts from the reward model folder.
    private PpoLearner Learner(PpoConfig cfg, CausalLM policy)
    {
        var reference = PretrainedIO.LoadCausalLM(SftDir);
        reference.Freeze();
        var reward = new GoldRewardSource();
        var inputs = new TrainerInputs(_tokenizer, ChatTemplate.Get("chatml"), reward);
        var mixture = new RewardMixture([new RewardComponent(reward, 1)], normalize: false);
        return new PpoLearner(cfg, new RlContext(inputs, policy, reference, mixture, inputs.PromptCollator(cfg.MaxPromptLength), DataParallel.Start(cfg, "")));
    }

    private IReadOnlyList<PromptExample> Prompts(int n) => PromptDataset.Load(Path.Combine(DataDir, "prompts_train.jsonl"), new DataLoadOptions()).Take(n).ToList();

    private static float[][] Weights(CausalLM m) => [.. m.NamedParameters().Select(p => p.Param.Value.ToArray())];

    [Fact]
    public void ANoOpUpdateLeavesThePolicyUnchangedWithRatioOneAndNoClipping()
    {
        var cfg = Config();
        var policy = PretrainedIO.LoadCausalLM(SftDir);
        // A zero learning rate and no weight decay: the whole PPO machinery runs, nothing moves.
        cfg.LearningRate = 0f;
        cfg.WeightDecay = 0f;
        var learner = Learner(cfg, policy);
        var before = Weights(policy);

        var result = learner.Step(Prompts(8), 0);

        Assert.Equal(before, Weights(policy));
        // Every minibatch of both epochs recomputes exactly the log-probs the rollout was scored with.
        Assert.Equal(1.0, result.Metrics["policy/ratio_mean"]);
        Assert.Equal(1.0, result.Metrics["policy/ratio_max"]);
        Assert.Equal(0.0, result.Metrics["policy/clipfrac"]);
        Assert.Equal(0.0, result.Metrics["policy/approxkl"]);
        Assert.Equal(2, result.Metrics["policy/epochs"]);
        // The policy is the reference, so the sampled KL is exactly zero and the KL penalty adds nothing.
        Assert.Equal(0.0, result.Metrics["objective/kl"]);
        Assert.Equal(0.0, result.Metrics["objective/non_score_reward"]);
    }

    [Fact]
    public void ARealStepMovesThePolicyAndReportsEveryMonitoringMetric()
    {
        var cfg = Config();
        cfg.PpoEpochs = 3;
        var policy = PretrainedIO.LoadCausalLM(SftDir);
        var learner = Learner(cfg, policy);
        var before = Weights(policy);

        var result = learner.Step(Prompts(8), 0);

        Assert.NotEqual(before, Weights(policy));
        foreach (var key in new[]
        {
            "objective/scores", "objective/kl", "objective/kl_coef", "objective/entropy", "policy/approxkl", "policy/clipfrac",
            "policy/ratio_mean", "policy/ratio_max", "val/vpred", "val/clipfrac", "val/explained_variance", "loss/policy",
            "loss/value", "rollout/response_length", "time/generate", "time/score", "time/update", "objective/gold_score",
            "time/score_policy", "time/score_ref", "time/score_critic", "time/score_reward",
        })
        {
            Assert.True(result.Metrics.ContainsKey(key), $"missing metric {key}");
            Assert.False(double.IsNaN(result.Metrics[key]), $"{key} is NaN");
        }
        // The parts of scoring are timed one after another inside time/score.
        string[] parts = ["time/score_policy", "time/score_ref", "time/score_critic", "time/score_reward"];
        Assert.All(parts, k => Assert.True(result.Metrics[k] >= 0, $"{k} is negative"));
        Assert.True(parts.Sum(k => result.Metrics[k]) <= result.Metrics["time/score"]);
        // After the first minibatch the policy has moved, so later minibatches see ratios away from 1.
        Assert.True(result.Metrics["policy/ratio_max"] > 1.0);
        Assert.True(result.Metrics["policy/approxkl"] > 0);
        Assert.Equal(8, result.Rollouts.Count);
        // The adaptive controller moved β after the step (KL was 0 < target, so β shrinks).
        Assert.True(learner.Kl.Beta < cfg.InitKlCoef);
    }

    [Theory]
    [InlineData("k1")]
    [InlineData("k3")]
    public void TheLoggedKlIsTheKlTheControllerSteersOn(string estimator)
    {
        var cfg = Config();
        cfg.KlEstimator = estimator;
        cfg.KlTarget = 0.5f;
        cfg.KlHorizon = 16f;
        // A reference that differs from the policy, so the KL is not zero.
        var policy = new CausalLM(TinyRlTask.PolicyConfig(_tokenizer.VocabSize), new Generator(41));
        var learner = Learner(cfg, policy);
        double beta = learner.Kl.Beta;

        var m = learner.Step(Prompts(8), 0).Metrics;

        double kl = m["objective/kl"];
        Assert.True(kl != 0 && double.IsFinite(kl), $"objective/kl = {kl}"); // k1 is unbiased but a batch estimate may fall below zero
        // β ← β·(1 + clip(KL/target − 1, ±0.2)·n/horizon) with exactly the logged KL (Ziegler et al. 2019, §2.2).
        double expected = beta * (1 + (Math.Clamp((kl / cfg.KlTarget) - 1, -0.2, 0.2) * 8 / cfg.KlHorizon));
        Assert.Equal(expected, learner.Kl.Beta);
        Assert.Equal(beta, m["objective/kl_coef"]);
        // The penalty is −β·KL summed over tokens, so the non-score reward is −β times the logged KL.
        Assert.Equal(-beta * kl, m["objective/non_score_reward"], 9);
    }

    [Fact]
    public void UnknownAlgorithmNamesAreConfigErrorsListingTheValidOnes()
    {
        var cfg = Config();
        cfg.KlEstimator = "k4";
        cfg.PolicyLoss = "ppo_clip_typo";
        var problems = cfg.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("'k4'", StringComparison.Ordinal) && p.Contains("k1, k2, k3", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'ppo_clip_typo'", StringComparison.Ordinal) && p.Contains("ppo_clip", StringComparison.Ordinal));
        var grpo = new GrpoConfig { Data = DataDir, Model = SftDir, RewardModel = RmDir, Advantage = "gae" };
        Assert.Contains(grpo.Validate(), p => p.Contains("'gae'", StringComparison.Ordinal) && p.Contains("valid: grpo, reinforce_plus_plus, reinforce_plus_plus_baseline, remax, rloo", StringComparison.Ordinal));
        grpo.Advantage = "remax";
        Assert.DoesNotContain(grpo.Validate(), p => p.Contains("advantage", StringComparison.Ordinal));
    }

    [Fact]
    public void DualClipCReachesThePolicyLoss()
    {
        double LowerClipFraction(float c)
        {
            var cfg = Config();
            cfg.PolicyLoss = "dual_clip";
            cfg.DualClipC = c;
            cfg.PpoEpochs = 2;
            cfg.LearningRate = 5e-2f;
            return Learner(cfg, PretrainedIO.LoadCausalLM(SftDir)).Step(Prompts(8), 0).Metrics["policy/clipfrac_lower"];
        }

        // The same rollouts and updates: a bound far away never holds, one just above 1 holds once ratios move.
        Assert.Equal(0, LowerClipFraction(1e6f));
        Assert.True(LowerClipFraction(1.0001f) > 0);
    }

    [Fact]
    public void TargetKlStopsTheEpochsEarly()
    {
        var cfg = Config();
        cfg.PpoEpochs = 4;
        cfg.LearningRate = 5e-2f;
        cfg.TargetKl = 1e-9f;
        var learner = Learner(cfg, PretrainedIO.LoadCausalLM(SftDir));
        var result = learner.Step(Prompts(8), 0);
        Assert.True(result.Metrics["policy/epochs"] < 4, $"ran {result.Metrics["policy/epochs"]} epochs");
    }

    [Fact]
    public void TheTrainerWritesARunFolderAndResumesBitIdentically()
    {
        var straight = Path.Combine(_dir, "straight");
        var summary = PpoTrainer.Run(Config(), straight, resume: false);
        Assert.Contains(File.ReadLines(Path.Combine(straight, "metrics.jsonl")), l => l.Contains("\"reward/reward_model\"", StringComparison.Ordinal));
        foreach (var key in new[] { "time/total_s", "eval/gold_score", "eval/win_rate_vs_ref", "objective/kl", "objective/kl_coef", "model" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var lines = File.ReadLines(Path.Combine(straight, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(4, lines.Count(l => l.ContainsKey("objective/kl_coef")));
        Assert.Contains(lines, l => l.ContainsKey("eval/win_rate_vs_ref"));

        // Stop after the checkpoint at step 2, then resume to step 4.
        var split = Path.Combine(_dir, "split");
        var half = Config();
        half.MaxSteps = 2;
        PpoTrainer.Run(half, split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        PpoTrainer.Run(Config(), split, resume: true);

        var a = PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"));
        var b = PretrainedIO.LoadCausalLM(Path.Combine(split, "model"));
        Assert.Equal(Weights(a), Weights(b));
        var ca = PretrainedIO.LoadScorer(Path.Combine(straight, "checkpoint-4", "critic"));
        var cb = PretrainedIO.LoadScorer(Path.Combine(split, "checkpoint-4", "critic"));
        Assert.Equal(ca.NamedParameters().Select(p => p.Param.Value.ToArray()), cb.NamedParameters().Select(p => p.Param.Value.ToArray()));
    }

    [Fact]
    public void LoraPolicyUsesItselfWithAdaptersOffAsTheReferenceAndResumesExactly()
    {
        var cfg = Config();
        cfg.LoraRank = 4;
        cfg.MaxSteps = 2;
        cfg.SaveEvery = 1;
        cfg.EvalEvery = 0;
        var straight = Path.Combine(_dir, "lora");
        var summary = PpoTrainer.Run(cfg, straight, resume: false);
        Assert.True(File.Exists(Path.Combine(straight, "adapter", "adapter_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(straight, "checkpoint-2", "policy", "adapters.safetensors")));
        var merged = PretrainedIO.LoadCausalLM(Path.Combine(straight, "model"));
        var sft = PretrainedIO.LoadCausalLM(SftDir);
        Assert.NotEqual(Weights(sft), Weights(merged));

        var split = Path.Combine(_dir, "lora-split");
        var first = Config();
        first.LoraRank = 4;
        first.MaxSteps = 1;
        first.SaveEvery = 1;
        first.EvalEvery = 0;
        PpoTrainer.Run(first, split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        PpoTrainer.Run(cfg, split, resume: true);
        Assert.Equal(Weights(merged), Weights(PretrainedIO.LoadCausalLM(Path.Combine(split, "model"))));
        Assert.Equal("ppo", summary["stage"]!.GetValue<string>());
    }

    [Fact]
    public void TheRewardModelSourceScoresTextsExactlyAsTheRewardModelSawItsTrainingPairs()
    {
        var template = ChatTemplate.Get("chatml");
        var pairs = PreferenceDataset.Load(Path.Combine(DataDir, "prefs_train.jsonl"), new DataLoadOptions()).Take(5).ToList();
        var batch = new PreferenceCollator(_tokenizer, template, new CollatorOptions { MaxLength = 64, MaxPromptLength = 32, PadTokenId = _tokenizer.PadTokenId }).Collate(pairs);
        var scorer = PretrainedIO.LoadScorer(RmDir);
        var expected = scorer.Forward(batch.Chosen.InputIds, batch.Chosen.AttentionMask).ToArray();

        var source = RewardModelSource.Load(RmDir, template, maxLength: 64, maxPromptLength: 32, batchSize: 2);
        var prompts = pairs.Select(p => p.ChosenDialogue.Take(p.ChosenDialogue.Count - 1).ToList()).Cast<IReadOnlyList<ChatMessage>>().ToList();
        var got = source.ScoreDialogues(prompts, [.. pairs.Select(p => p.ChosenDialogue[^1].Content)]);
        Assert.Equal(expected.Select(x => (double)x), got, (a, b) => Math.Abs(a - b) < 1e-5);
        // Plain-text prompts are single user turns, the same thing here.
        Assert.Equal(got, source.Score([.. prompts.Select(p => p[^1].Content)], [.. pairs.Select(p => p.ChosenDialogue[^1].Content)]));
        Assert.Throws<ArgumentException>(() => source.Score(["one"], []));
    }

    private sealed class RecordingProgress : IProgressReporter
    {
        public List<string> Messages { get; } = [];

        public void Begin(string stage, long totalSteps, long startStep)
        {
        }

        public void Update(long step, IReadOnlyDictionary<string, double> metrics)
        {
        }

        public void Message(string text) => Messages.Add(text);

        public void End()
        {
        }
    }

    [Fact]
    public void TopKOrTopPInRolloutsIsWarnedAbout()
    {
        var cfg = Config();
        cfg.MaxSteps = 1;
        cfg.TopK = 5;
        cfg.EvalPrompts = 2;
        var progress = new RecordingProgress();
        PpoTrainer.Run(cfg, Path.Combine(_dir, "topk"), resume: false, progress);
        Assert.Contains(progress.Messages, m => m.Contains("top_k=5", StringComparison.Ordinal) && m.Contains("biased", StringComparison.Ordinal));
        Assert.Contains("top_k=5", File.ReadAllText(Path.Combine(_dir, "topk", "samples.jsonl")));

        var quiet = new RecordingProgress();
        cfg.TopK = 0;
        PpoTrainer.Run(cfg, Path.Combine(_dir, "plain"), resume: false, quiet);
        Assert.DoesNotContain(quiet.Messages, m => m.Contains("warning", StringComparison.Ordinal));
    }

    [Fact]
    public void AMixOfRewardModelAndGoldScorerLogsEachComponent()
    {
        var cfg = Config();
        cfg.MaxSteps = 1;
        cfg.EvalPrompts = 2;
        cfg.RewardFuncs = ["gold"];
        cfg.RewardWeights = [1.0, 0.5];
        cfg.NormalizeRewards = true;
        var run = Path.Combine(_dir, "mix");
        PpoTrainer.Run(cfg, run, resume: false);
        var line = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).First(l => l.ContainsKey("objective/scores"));
        Assert.True(line.ContainsKey("reward/reward_model") && line.ContainsKey("reward/gold"));
        // The gold component equals the separately logged gold score of the same rollouts.
        Assert.Equal(line["objective/gold_score"]!.GetValue<double>(), line["reward/gold"]!.GetValue<double>(), 9);
        cfg.RewardWeights = [1.0];
        Assert.Contains(cfg.Validate(), p => p.Contains("reward_weights", StringComparison.Ordinal));
        cfg.RewardFuncs = ["helpfulness"];
        Assert.Contains(cfg.Validate(), p => p.Contains("reward_funcs", StringComparison.Ordinal));
    }

    [Fact]
    public void BadSettingsAreRejectedWithTheKeyName()
    {
        var cfg = Config();
        cfg.MiniBatchSize = 3;
        Assert.Contains(cfg.Validate(), p => p.Contains("mini_batch_size", StringComparison.Ordinal));
        cfg = Config();
        cfg.RewardModel = null;
        Assert.Contains(cfg.Validate(), p => p.Contains("no reward", StringComparison.Ordinal));
        cfg = Config();
        cfg.KlEstimator = "k4";
        Assert.Contains(cfg.Validate(), p => p.Contains("kl_estimator", StringComparison.Ordinal));
        cfg = Config();
        cfg.RewardModel = Path.Combine(_dir, "missing");
        var ex = Assert.Throws<TrainingSetupException>(() => PpoTrainer.Run(cfg, Path.Combine(_dir, "bad"), resume: false));
        Assert.Contains("reward_model", ex.Message);
    }
}
