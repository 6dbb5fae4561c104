using System.Diagnostics;
using System.Text.Json.Nodes;
using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Rl;

/// <summary><c>rlhf grpo</c>: the shared RL loop (<see cref="RlLoop"/>) with <see cref="GrpoLearner"/> steps.</summary>
public static class GrpoTrainer
{
    public static JsonObject Run(GrpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null) =>
        RlLoop.Run(cfg, "grpo", runDir, resume, progress, ctx => new GrpoLearner(cfg, ctx),
            ["reward", "reward_std", "kl", "objective/gold_score"]);
}

/// <summary>
/// One critic-free step (GRPO, Shao et al. 2024; RLOO, Ahmadian et al. 2024): each prompt is
/// answered G times; a response's advantage is its score against its group's (normalised by the
/// group's std, or against the mean of the other G − 1); every token of the response carries it.
/// The loss is the clipped surrogate plus β·k3 KL to the reference, over <c>num_iterations</c>
/// passes in minibatches. Old log-probs are taken before the first update, so on the first pass
/// the ratio is exactly 1 and the gradient is the plain policy gradient.
/// </summary>
public sealed class GrpoLearner : IRlLearner
{
    private readonly GrpoConfig _cfg;
    private readonly RlContext _ctx;
    private readonly GenerationOptions _gen;
    private readonly LrSchedule _schedule;

    public GrpoLearner(GrpoConfig cfg, RlContext ctx)
    {
        _cfg = cfg;
        _ctx = ctx;
        if (ctx.Reference is null && ctx.Policy.SetAdaptersEnabled(true) == 0)
            throw new ArgumentException("without a reference model the policy must carry LoRA adapters", nameof(ctx));
        _gen = cfg.RolloutSampling(ctx.Tokenizer);
        Optimizer = TrainerSetup.Optimizer(ctx.Policy, cfg);
        _schedule = TrainerSetup.Schedule(cfg);
        Rng = new Generator((ulong)cfg.Seed + 11);
    }

    public Optimizer Optimizer { get; }

    public IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = _ctx.Policy };

    public Generator Rng { get; }

    public IReadOnlyDictionary<string, double> LastMetrics { get; private set; } = new Dictionary<string, double>();

    public RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        int g = _cfg.NumGenerations;
        var rows = prompts.SelectMany(p => Enumerable.Repeat(p, g)).ToList(); // a prompt's G rows are contiguous
        var clock = Stopwatch.StartNew();
        var rollout = Rollouts.Generate(_ctx.Policy, _ctx.PromptCollator, _ctx.Tokenizer, rows, _gen, Rng);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var oldLogp = Rollouts.LogProbs(_ctx.Policy, rollout, _cfg.Temperature);
        var refLogp = _cfg.Beta > 0 ? Rollouts.ReferenceLogProbs(_ctx.Policy, _ctx.Reference, rollout, _cfg.Temperature) : oldLogp;
        var dialogues = rollout.Prompts.Select(p => p.Messages).ToList();
        var scores = _ctx.Reward.ScoreDialogues(dialogues, rollout.Texts);
        var gold = _ctx.Gold?.ScoreDialogues(dialogues, rollout.Texts);
        var advantages = _cfg.Advantage == "rloo" ? LeaveOneOutAdvantages.Compute(scores, g) : GroupAdvantages.Compute(scores, g, _cfg.ScaleRewards);
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        _schedule.Apply(Optimizer, stepIndex);
        var update = Update(rollout, oldLogp, refLogp, advantages);
        double tUpdate = clock.Elapsed.TotalSeconds;

        var m = new Dictionary<string, double>(update);
        var groupStd = new List<double>();
        int zeroStd = 0;
        for (int p = 0; p < prompts.Count; p++)
        {
            var group = scores.AsSpan(p * g, g).ToArray();
            double mean = group.Average();
            double std = Math.Sqrt(group.Sum(x => (x - mean) * (x - mean)) / (g - 1));
            groupStd.Add(std);
            if (std < 1e-9)
                zeroStd++;
        }
        m["reward"] = scores.Average();
        RewardMixture.AddComponentMeans(_ctx.Reward, m);
        m["reward_std"] = groupStd.Average();
        m["frac_reward_zero_std"] = zeroStd / (double)prompts.Count;
        if (gold is not null)
            m["objective/gold_score"] = gold.Average();
        m["completions/mean_length"] = rollout.Lengths.Average();
        m["completions/eos_fraction"] = rollout.Ended.Count(e => e) / (double)rollout.Count;
        m["time/generate"] = tGenerate;
        m["time/score"] = tScore;
        m["time/update"] = tUpdate;
        m["train/learning_rate"] = Optimizer.ParamGroups[0].Lr;
        LastMetrics = m;

        var kl = SequenceKl(oldLogp, refLogp, rollout.ResponseMask);
        var samples = new RolloutSample[rollout.Count];
        for (int r = 0; r < samples.Length; r++)
            samples[r] = new RolloutSample(IRewardSource.LastUserText(rollout.Prompts[r].Messages), rollout.Texts[r], scores[r], gold?[r], kl[r]);
        return new RlStepResult(m, samples);
    }

    // Σ_t (logp − logp_ref) per response: the sampled KL to the reference (k1), for the logs.
    private static double[] SequenceKl(Tensor logp, Tensor refLogp, Tensor mask)
    {
        var a = logp.ToArray();
        var b = refLogp.ToArray();
        var mk = mask.ToArray();
        int rows = mask.Size(0), cols = mask.Size(1);
        var kl = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < cols; t++)
                kl[r] += mk[(r * cols) + t] * (a[(r * cols) + t] - b[(r * cols) + t]);
        return kl;
    }

    private Dictionary<string, double> Update(RolloutBatch rollout, Tensor oldLogp, Tensor refLogp, double[] advantages)
    {
        int b = rollout.Count, mini = _cfg.EffectiveMiniBatch, micro = mini / _cfg.GradientAccumulationSteps;
        var adv = Tensor.FromArray([.. advantages.Select(a => (float)a)], b);
        var parameters = _ctx.Policy.TrainableParameters().ToList();
        var sums = new Dictionary<string, double>();
        void Add(string k, double v) => sums[k] = sums.GetValueOrDefault(k) + v;
        int micros = 0, updates = 0;
        for (int iteration = 0; iteration < _cfg.NumIterations; iteration++)
        {
            var order = Enumerable.Range(0, b).ToList();
            Rng.Shuffle(order);
            for (int start = 0; start < b; start += mini)
            {
                Optimizer.ZeroGrad();
                for (int ms = start; ms < start + mini; ms += micro)
                {
                    var rows = order.GetRange(ms, micro);
                    var mb = rollout.Select(rows);
                    var (logp, entropy) = Rollouts.LogProbsAndEntropy(_ctx.Policy, mb, _cfg.Temperature);
                    var output = GrpoLoss.Compute(logp, Rollouts.Rows(oldLogp, rows), Rollouts.Rows(refLogp, rows), Rollouts.Rows(adv, rows), mb.ResponseMask,
                        _cfg.Epsilon, _cfg.Beta, _cfg.ParsedAggregation, _cfg.EpsilonHigh > 0 ? _cfg.EpsilonHigh : null);
                    output.Loss.Mul(1f / _cfg.GradientAccumulationSteps).Backward();
                    micros++;
                    Add("loss", output.Loss.Item());
                    Add("kl", output.Kl);
                    Add("clip_ratio", output.ClipFraction);
                    Add("entropy", LossAggregator.Aggregate(entropy.Detach(), mb.ResponseMask, LossAggregation.TokenMean).Item());
                }
                Add("train/grad_norm", _cfg.MaxGradNorm > 0 ? GradClip.ClipGradNorm(parameters, _cfg.MaxGradNorm) : 0);
                Optimizer.Step();
                updates++;
            }
        }
        var m = new Dictionary<string, double>();
        foreach (var (k, v) in sums)
            m[k] = v / (k == "train/grad_norm" ? updates : micros);
        return m;
    }

    public void SaveState(TrainerState state) => state.Set("rng", Rng.GetState());

    public void LoadState(TrainerState state) => Rng.SetState(state.GetWords("rng"));
}
