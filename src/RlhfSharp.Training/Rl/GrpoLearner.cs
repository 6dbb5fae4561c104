using System.Diagnostics;
using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// One critic-free step (GRPO, Shao et al. 2024; RLOO, Ahmadian et al. 2024): each prompt is
/// answered G times; a response's advantage is its score against its group's (normalised by the
/// group's std, or against the mean of the other G − 1); every token of the response carries it.
/// The advantage estimator and the policy loss are looked up by name (<c>advantage</c>,
/// <c>policy_loss</c>); the loss adds β·k3 KL to the reference per token (<see cref="GrpoLoss"/>),
/// over <c>num_iterations</c> passes in minibatches. Old log-probs are taken before the first update, so on the first pass
/// the ratio is exactly 1 and the gradient is the plain policy gradient.
/// </summary>
public sealed class GrpoLearner : RlLearner<GrpoConfig>
{
    private readonly AdvantageEstimator _advantages;
    private readonly PolicyLossFunction _policyLoss;
    private readonly PolicyLossSettings _lossSettings;

    public GrpoLearner(GrpoConfig cfg, RlContext ctx)
        : base(cfg, ctx, () => TrainerSetup.Optimizer(ctx.Policy, cfg))
    {
        _advantages = AdvantageEstimators.Get(cfg.Advantage);
        _policyLoss = PolicyLosses.Get(cfg.PolicyLoss);
        _lossSettings = new PolicyLossSettings
        {
            ClipLow = cfg.Epsilon,
            ClipHigh = cfg.EpsilonHigh > 0 ? cfg.EpsilonHigh : null,
            Aggregation = cfg.ParsedAggregation,
        };
    }

    public override IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = Ctx.Policy };

    public override RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        int g = Cfg.NumGenerations;
        var rows = prompts.SelectMany(p => Enumerable.Repeat(p, g)).ToList(); // a prompt's G rows are contiguous
        var clock = Stopwatch.StartNew();
        // On several ranks each answers its share of the prompts, whole groups, so advantages stay local.
        var (rollout, shard) = Generate(rows, g);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var oldLogp = Rollouts.LogProbs(Ctx.Policy, rollout, Cfg.Temperature);
        var refLogp = Cfg.Beta > 0 ? Rollouts.ReferenceLogProbs(Ctx.Policy, Ctx.Reference, rollout, Cfg.Temperature) : oldLogp;
        var dialogues = rollout.Prompts.Select(p => p.Messages).ToList();
        // The whole batch's scores (each rank scores its rows), so normalisers and metrics see them all.
        var scores = Ctx.Reward.ScoreExamples(rollout.Prompts, rollout.Texts, x => Dp.Gather(x, "scores"));
        var gold = Ctx.Gold is { } goldSource ? Dp.Gather(goldSource.ScoreDialogues(dialogues, rollout.Texts), "gold scores") : null;
        var ended = Dp.Gather([.. rollout.Ended.Select(e => e ? 1.0 : 0.0)], "ended");
        var advantages = _advantages(new AdvantageInputs
        {
            ResponseMask = rollout.ResponseMask,
            Scores = Tensor.FromArray(scores.AsSpan(shard.Start, shard.Count).ToArray(), shard.Count),
            GroupSize = g,
            ScaleByStd = Cfg.ScaleRewards,
        }).Advantages;
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        Schedule.Apply(Optimizer, stepIndex);
        var update = Update(rollout, shard, oldLogp, refLogp, advantages);
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
        RewardMixture.AddComponentMeans(Ctx.Reward, m);
        m["reward_std"] = groupStd.Average();
        m["frac_reward_zero_std"] = zeroStd / (double)prompts.Count;
        if (gold is not null)
            m["objective/gold_score"] = gold.Average();
        m["completions/mean_length"] = shard.Lengths.Average();
        m["completions/eos_fraction"] = ended.Count(e => e > 0) / (double)shard.Total;
        m["time/generate"] = tGenerate;
        m["time/score"] = tScore;
        m["time/update"] = tUpdate;
        m["train/learning_rate"] = Optimizer.ParamGroups[0].Lr;
        LastMetrics = m;

        // This rank's rollouts for the text log (rank 0 holds the batch's first rows).
        var kl = KlEstimators.PerSequence(oldLogp, refLogp, rollout.ResponseMask, KlEstimator.K1).ToDoubleArray();
        var samples = new RolloutSample[rollout.Count];
        for (int r = 0; r < samples.Length; r++)
            samples[r] = new RolloutSample(IRewardSource.LastUserText(rollout.Prompts[r].Messages), rollout.Texts[r], scores[shard.Start + r], gold?[shard.Start + r], kl[r]);
        return new RlStepResult(m, samples);
    }

    private Dictionary<string, double> Update(RolloutBatch rollout, RolloutShard shard, Tensor oldLogp, Tensor refLogp, Tensor advantages)
    {
        var adv = advantages.Float();
        var parameters = Ctx.Policy.TrainableParameters().ToList();
        var metrics = new UpdateMetrics();
        Minibatches(shard, Cfg.NumIterations, Cfg.EffectiveMiniBatch, metrics, Cfg.ParsedAggregation, (rows, weight) =>
        {
            var mb = rollout.Select(rows);
            var (logp, entropy) = Rollouts.LogProbsAndEntropy(Ctx.Policy, mb, Cfg.Temperature);
            var output = GrpoLoss.Compute(logp, Rollouts.Rows(oldLogp, rows), Rollouts.Rows(refLogp, rows), Rollouts.Rows(adv, rows), mb.ResponseMask,
                _lossSettings, Cfg.Beta, _policyLoss);
            var loss = weight == 1 ? output.Loss : output.Loss.Mul((float)weight);
            loss.Mul(1f / Cfg.GradientAccumulationSteps).Backward();
            metrics.Add("loss", output.Loss.Item());
            metrics.Add("kl", output.Kl);
            metrics.Add("clip_ratio", output.ClipFraction);
            metrics.Add("entropy", LossAggregator.Aggregate(entropy.Detach(), mb.ResponseMask, LossAggregation.TokenMean).Item());
            return loss.Item();
        },
        clipGroups: [("train/grad_norm", parameters)]);
        return metrics.Means(Dp);
    }
}
