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
/// One critic-free step: each prompt is answered G times (<see cref="Sample"/>: with DAPO's
/// overlong punishment and dynamic sampling when configured) and the advantage estimator named by
/// <c>advantage</c> turns the scores into per-token advantages: GRPO (Shao et al. 2024) and RLOO
/// (Ahmadian et al. 2024) against the group; REINFORCE++ (Hu 2025) from returns of −β·KL_t plus
/// the score, whitened over the whole batch on every rank (the KL is in the reward, so the loss's
/// k3 term is off unless beta is set); ReMax (Li et al. 2023) against the score of one extra greedy
/// answer per prompt, which is not trained on. The policy loss named by <c>policy_loss</c> adds
/// β·k3 KL to the reference per token (<see cref="GrpoLoss"/>), over <c>num_iterations</c> passes in
/// minibatches. Old log-probs are taken before the first update, so on the first pass the ratio is
/// exactly 1 and the gradient is the plain policy gradient.
/// </summary>
public sealed partial class GrpoLearner : RlLearner<GrpoConfig>
{
    private readonly AdvantageEstimator _advantages;
    private readonly PolicyLossFunction _policyLoss;
    private readonly PolicyLossSettings _lossSettings;
    private readonly KlEstimator _rewardKl;
    private readonly Func<IReadOnlyList<PromptExample>>? _nextPrompts;

    public GrpoLearner(GrpoConfig cfg, RlContext ctx)
        : base(cfg, ctx, () => TrainerSetup.Optimizer(ctx.Policy, cfg))
    {
        _advantages = AdvantageEstimators.Get(cfg.Advantage);
        _policyLoss = PolicyLosses.Get(cfg.PolicyLoss);
        _rewardKl = KlEstimators.Parse(cfg.KlEstimator);
        _lossSettings = new PolicyLossSettings
        {
            ClipLow = cfg.Epsilon,
            ClipHigh = cfg.EpsilonHigh > 0 ? cfg.EpsilonHigh : null,
            DualClipC = cfg.DualClipC,
            Aggregation = cfg.ParsedAggregation,
        };
        _nextPrompts = ctx.NextPrompts;
        if (cfg.FilterGroups && ctx.Dp.Size > 1)
            throw new TrainingSetupException($"filter_groups (dynamic sampling) runs on one process for now; this run has {ctx.Dp.Size} ranks. Turn filter_groups off or run on one rank");
        if (cfg.FilterGroups && _nextPrompts is null)
            throw new ArgumentException("filter_groups needs the run's prompt loader (RlContext.NextPrompts) to sample further batches", nameof(ctx));
    }

    public override IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = Ctx.Policy };

    /// <summary>The latest step's advantage inputs (this rank's rows) and the advantages [B, T] they gave.</summary>
    internal (AdvantageInputs Inputs, Tensor Advantages)? LastAdvantages { get; private set; }

    /// <summary>The latest step's scored rollouts.</summary>
    internal ScoredRollouts? LastScored { get; private set; }

    public override RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        int g = Cfg.NumGenerations;
        var clock = Stopwatch.StartNew();
        var batch = Sample(prompts);
        LastScored = batch;
        var (rollout, shard, scores, gold) = (batch.Rollout, batch.Shard, batch.Scores, batch.Gold);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var oldLogp = Rollouts.LogProbs(Ctx.Policy, rollout, Cfg.Temperature);
        bool needReference = Cfg.EffectiveBeta > 0 || Cfg.RewardKlCoef > 0;
        var refLogp = needReference ? Rollouts.ReferenceLogProbs(Ctx.Policy, Ctx.Reference, rollout, Cfg.Temperature) : oldLogp;
        // REINFORCE++: the per-token KL to the reference, −β·KL_t of which goes into the reward.
        var tokenKl = Cfg.RewardKlCoef > 0 ? Masked.Zeroed(KlEstimators.PerToken(oldLogp, refLogp, _rewardKl), rollout.ResponseMask) : null; // [B, T]
        var greedy = Cfg.Advantage == "remax" ? GreedyScores(rollout, shard) : null;
        var inputs = new AdvantageInputs
        {
            ResponseMask = rollout.ResponseMask,
            Scores = Tensor.FromArray(scores.AsSpan(shard.Start, shard.Count).ToArray(), shard.Count),
            GroupSize = g,
            ScaleByStd = Cfg.ScaleRewards,
            Kl = tokenKl,
            Beta = Cfg.RewardKlCoef,
            Gamma = Cfg.Gamma,
            GreedyScores = greedy is null ? null : Tensor.FromArray(greedy.AsSpan(shard.Start, shard.Count).ToArray(), shard.Count),
            Communicator = Dp.Comm,
        };
        var advantages = _advantages(inputs).Advantages;
        LastAdvantages = (inputs, advantages);
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        Schedule.Apply(Optimizer, stepIndex);
        var update = Update(rollout, shard, oldLogp, refLogp, advantages);
        double tUpdate = clock.Elapsed.TotalSeconds;

        var m = new Dictionary<string, double>(update);
        foreach (var (k, v) in batch.Metrics)
            m[k] = v;
        var groupStd = new List<double>();
        int zeroStd = 0, groups = shard.Total / g;
        for (int p = 0; p < groups; p++)
        {
            var group = scores.AsSpan(p * g, g).ToArray();
            double mean = group.Average();
            double std = g > 1 ? Math.Sqrt(group.Sum(x => (x - mean) * (x - mean)) / (g - 1)) : 0;
            groupStd.Add(std);
            if (std < 1e-9)
                zeroStd++;
        }
        m["reward"] = scores.Average();
        foreach (var (name, component) in batch.Components)
            m["reward/" + name] = component.Average();
        m["reward_std"] = groupStd.Average();
        m["frac_reward_zero_std"] = zeroStd / (double)groups;
        if (gold is not null)
            m["objective/gold_score"] = gold.Average();
        if (tokenKl is not null)
        {
            // Σ_t KL_t per response under kl_estimator, averaged over the batch's responses (PPO's objective/kl).
            double klSum = Dp.Sum(tokenKl.Double().Sum().ItemDouble(), "reward kl") / shard.Total;
            m["objective/kl"] = klSum;
            m["objective/non_score_reward"] = -Cfg.RewardKlCoef * klSum;
        }
        if (greedy is not null)
        {
            m["remax/greedy_score"] = greedy.Where((_, i) => i % g == 0).Average();
            m["remax/advantage"] = scores.Zip(greedy, (s, b) => s - b).Average();
        }
        m["completions/mean_length"] = shard.Lengths.Average();
        m["completions/eos_fraction"] = batch.Ended.Count(e => e > 0) / (double)shard.Total;
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

    /// <summary>
    /// ReMax's baseline: for each of this rank's prompts one greedy (argmax) answer from the current
    /// policy, scored by the same reward (overlong penalty included; the reward normalisers are not
    /// updated by it) and never trained on -> the whole batch's per-row greedy scores [B·G].
    /// </summary>
    private double[] GreedyScores(RolloutBatch rollout, RolloutShard shard)
    {
        int g = Cfg.NumGenerations;
        var prompts = Enumerable.Range(0, shard.Count / g).Select(p => rollout.Prompts[p * g]).ToList();
        var greedy = Rollouts.Generate(Ctx.Policy, Ctx.PromptCollator, Ctx.Tokenizer, prompts, Generation with { DoSample = false }, new Generator(0));
        var local = Ctx.Reward.EvaluateExamples(greedy.Prompts, greedy.Texts);
        var penalties = OverlongPenalties(greedy.Lengths);
        for (int i = 0; i < local.Length; i++)
            local[i] += penalties[i];
        var perPrompt = Dp.Gather(local, "greedy scores");
        return [.. Enumerable.Range(0, perPrompt.Length * g).Select(r => perPrompt[r / g])];
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
                _lossSettings, Cfg.EffectiveBeta, _policyLoss);
            var loss = weight == 1 ? output.Loss : output.Loss.Mul((float)weight);
            loss.Mul(1f / Cfg.GradientAccumulationSteps).Backward();
            metrics.Add("loss", output.Loss.Item());
            metrics.Add("kl", output.Kl);
            metrics.Add("clip_ratio", output.ClipFraction);
            if (Cfg.PolicyLoss == "dual_clip")
                metrics.Add("clip_ratio/lower", output.DualClipFraction);
            metrics.Add("entropy", LossAggregator.Aggregate(entropy.Detach(), mb.ResponseMask, LossAggregation.TokenMean).Item());
            return loss.Item();
        },
        clipGroups: [("train/grad_norm", parameters)]);
        return metrics.Means(Dp);
    }
}
