using System.Diagnostics;
using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// One online DPO step (Guo et al. 2024; TRL <c>OnlineDPOTrainer</c>): each prompt is answered twice by
/// the current policy (rows 2p and 2p + 1), the judge scores both (the run's reward, or a constitution),
/// answers that did not end lose <c>missing_eos_penalty</c>, the higher is chosen
/// (<see cref="OnlineDpoPairs.Judge"/>), and one optimizer step takes the DPO loss
/// (<see cref="DpoLoss"/>) over the untied pairs against the frozen reference (or the policy with its
/// LoRA adapters off). Tied pairs carry no preference: they are left out of the loss, and
/// <c>objective/tie_fraction</c> logs how many there were; a batch of ties only skips the update.
/// </summary>
public sealed class OnlineDpoLearner : RlLearner<OnlineDpoConfig>
{
    private readonly IRewardSource? _constitution;

    public OnlineDpoLearner(OnlineDpoConfig cfg, RlContext ctx)
        : base(cfg, ctx, () => TrainerSetup.Optimizer(ctx.Policy, cfg))
    {
        if (cfg.Judge == "constitution")
            _constitution = Judges.Constitution.Load(cfg.ConstitutionFile ?? throw new TrainingSetupException("judge: constitution needs a constitution file (key 'constitution') or a data folder that holds constitution.yaml"));
    }

    public override IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = Ctx.Policy };

    public override RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        var rows = prompts.SelectMany(p => Enumerable.Repeat(p, 2)).ToList(); // a prompt's two answers are contiguous
        var clock = Stopwatch.StartNew();
        var (rollout, shard) = Generate(rows, 2);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var refSeq = SequenceValues(Rollouts.ReferenceLogProbs(Ctx.Policy, Ctx.Reference, rollout, Cfg.Temperature), rollout.ResponseMask);
        // The whole batch's scores and EOS flags (each rank judges its rows), so every rank picks the same pairs.
        var scores = _constitution is { } c
            ? Dp.Gather(c.ScoreExamples(rollout.Prompts, rollout.Texts), "judge scores")
            : Ctx.Reward.ScoreExamples(rollout.Prompts, rollout.Texts, x => Dp.Gather(x, "scores"));
        var ended = Dp.Gather([.. rollout.Ended.Select(e => e ? 1.0 : 0.0)], "ended").Select(e => e > 0).ToArray();
        var gold = Ctx.Gold is { } goldSource ? Dp.Gather(goldSource.ScoreDialogues([.. rollout.Prompts.Select(p => p.Messages)], rollout.Texts), "gold scores") : null;
        var pairs = OnlineDpoPairs.Judge(scores, ended, Cfg.MissingEosPenalty);
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        Schedule.Apply(Optimizer, stepIndex);
        var policySeq = new double[rollout.Count];
        var update = Update(rollout, shard, pairs, refSeq.Loss, policySeq);
        double tUpdate = clock.Elapsed.TotalSeconds;

        var m = new Dictionary<string, double>(update);
        var policyAll = Dp.Gather(policySeq, "policy log-probs");
        var refAll = Dp.Gather(refSeq.Sum, "reference log-probs");
        var lossPolicy = Dp.Gather(LossValues(policySeq, refSeq.Lengths), "policy loss log-probs");
        var lossRef = Dp.Gather(refSeq.Loss, "reference loss log-probs");
        AddPairMetrics(m, pairs, lossPolicy, lossRef);
        var kl = policyAll.Zip(refAll, (p, r) => p - r).ToArray(); // Σ_t log π/π_ref per answer
        var penalised = scores.Select((s, r) => OnlineDpoPairs.Penalised(s, ended[r], Cfg.MissingEosPenalty)).ToArray();
        m["objective/kl"] = kl.Average();
        m["objective/entropy"] = -policyAll.Average();
        m["objective/non_score_reward"] = -Cfg.Beta * kl.Average();
        m["objective/rlhf_reward"] = penalised.Average() - Cfg.Beta * kl.Average();
        m["objective/scores"] = penalised.Average();
        m["objective/scores_margin"] = pairs.Average(p => p.ChosenScore - p.RejectedScore);
        m["objective/tie_fraction"] = pairs.Count(p => p.Tied) / (double)pairs.Length;
        if (_constitution is null)
            RewardMixture.AddComponentMeans(Ctx.Reward, m);
        if (gold is not null)
            m["objective/gold_score"] = gold.Average();
        m["val/contain_eos_token"] = ended.Count(e => e) / (double)ended.Length;
        m["completions/mean_length"] = shard.Lengths.Average();
        m["beta"] = Cfg.Beta;
        m["time/generate"] = tGenerate;
        m["time/score"] = tScore;
        m["time/update"] = tUpdate;
        m["train/learning_rate"] = Optimizer.ParamGroups[0].Lr;
        LastMetrics = m;

        var samples = new RolloutSample[rollout.Count];
        for (int r = 0; r < samples.Length; r++)
        {
            int g = shard.Start + r;
            samples[r] = new RolloutSample(IRewardSource.LastUserText(rollout.Prompts[r].Messages), rollout.Texts[r], penalised[g], gold?[g], kl[g]);
        }
        return new RlStepResult(m, samples);
    }

    // One optimizer step over this rank's pairs in micro-batches; fills policySeq (this rank's rows, Σ_t log π) from the forward passes.
    private Dictionary<string, double> Update(RolloutBatch rollout, RolloutShard shard, JudgedPair[] pairs, double[] refLoss, double[] policySeq)
    {
        int untied = pairs.Count(p => !p.Tied);
        var metrics = new UpdateMetrics();
        if (untied == 0)
        {
            // No preference anywhere in the batch: no step, and the policy's log-probs for the metrics without a graph.
            SequenceValues(Rollouts.LogProbs(Ctx.Policy, rollout, Cfg.Temperature), rollout.ResponseMask).Sum.CopyTo(policySeq, 0);
            return new Dictionary<string, double> { ["loss"] = 0 };
        }
        var pairLengths = Enumerable.Range(0, pairs.Length).Select(p => shard.Lengths[2 * p] + shard.Lengths[2 * p + 1]).ToArray();
        var pairShard = new RolloutShard(shard.Start / 2, shard.Count / 2, pairs.Length, pairLengths);
        var parameters = Ctx.Policy.TrainableParameters().ToList();
        double lossSum = 0;
        Minibatches(pairShard, passes: 1, pairs.Length, metrics, LossAggregation.SeqMeanTokenMean, (localPairs, _) =>
        {
            var rows = localPairs.SelectMany(p => new[] { 2 * p, 2 * p + 1 }).ToList();
            var mb = rollout.Select(rows);
            var (logp, _) = Rollouts.LogProbsAndEntropy(Ctx.Policy, mb, Cfg.Temperature);
            var mask = mb.ResponseMask.Float();
            var sums = logp.Mul(mask).Sum(1);                                                     // [2m]
            var seq = Cfg.ParsedLossType == DpoLossType.Ipo ? sums.Div(mask.Sum(1).Clamp(min: 1f)) : sums; // [2m]
            var sumValues = sums.ToDoubleArray();
            for (int i = 0; i < rows.Count; i++)
                policySeq[rows[i]] = sumValues[i];
            var refs = Tensor.FromArray([.. rows.Select(r => (float)refLoss[r])], rows.Count);        // [2m]
            var judged = localPairs.Select(p => pairs[pairShard.Start + p]).ToList();
            var output = OnlineDpoPairs.Loss(seq, refs, judged, Cfg.Beta, Cfg.ParsedLossType);
            if (output is null)
                return 0;
            // Σ over this micro-batch's untied pairs / all untied pairs: summed over micro-batches and ranks, the mean.
            var loss = output.Loss.Mul(judged.Count(p => !p.Tied) / (float)untied);
            loss.Backward();
            double value = loss.Item();
            lossSum += value;
            return value;
        },
        clipGroups: [("train/grad_norm", parameters)]);
        var means = metrics.Means(Dp);
        means["loss"] = Dp.Size == 1 ? lossSum : Dp.SumMetrics(new Dictionary<string, double> { ["loss"] = lossSum })["loss"];
        return means;
    }

    // The pair metrics of TRL's DPO loss over the untied pairs, from the loss's own inputs.
    private void AddPairMetrics(Dictionary<string, double> m, JudgedPair[] pairs, double[] policy, double[] reference)
    {
        var output = OnlineDpoPairs.Loss(
            Tensor.FromArray([.. policy.Select(v => (float)v)], policy.Length),
            Tensor.FromArray([.. reference.Select(v => (float)v)], reference.Length),
            pairs, Cfg.Beta, Cfg.ParsedLossType);
        if (output is null)
            return;
        foreach (var (k, v) in output.ToMetrics())
            if (k != "loss")
                m[k] = v;
    }

    // Σ_t log π for IPO's length-normalised loss input: the mean over the answer's tokens.
    private double[] LossValues(double[] sums, int[] lengths) =>
        Cfg.ParsedLossType == DpoLossType.Ipo ? [.. sums.Select((s, r) => s / Math.Max(lengths[r], 1))] : sums;

    // Per-answer reference values: Σ_t log π_ref, the answer's length, and the loss input (the sum, or the mean for IPO).
    // logp [B, T], mask [B, T] -> ([B], [B], [B])
    private (double[] Sum, int[] Lengths, double[] Loss) SequenceValues(Tensor logp, Tensor mask)
    {
        var sums = logp.Mul(mask.Float()).Sum(1).ToDoubleArray();
        var lengths = mask.Float().Sum(1).ToDoubleArray().Select(l => (int)Math.Round(l)).ToArray();
        return (sums, lengths, LossValues(sums, lengths));
    }
}
