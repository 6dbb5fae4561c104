using RlhfSharp.Alignment.Dapo;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// A step's scored rollouts: this rank's rows and the whole batch's per-row numbers (every rank's,
/// in row order). Scores include the overlong penalty; Penalties holds it alone.
/// </summary>
internal sealed record ScoredRollouts(
    RolloutBatch Rollout,
    RolloutShard Shard,
    double[] Scores,
    double[] Penalties,
    double[]? Gold,
    double[] Ended,
    Dictionary<string, double[]> Components,
    Dictionary<string, double> Metrics);

/// <summary>
/// How <c>rlhf grpo</c> samples and scores a step's groups: one generation round, or with DAPO's
/// dynamic sampling (Yu et al. 2025, §3.2; verl's filter_groups) further rounds of new prompts from
/// the run's loader until batch_size groups with unequal scores are in hand or max_num_gen_batches
/// rounds are spent. Each round draws its own seed from the checkpointed generator and the loader's
/// position is checkpointed, so a resumed run samples the same rounds. DAPO's soft overlong
/// punishment (eq. 13) is added to each score before the filter sees it.
/// </summary>
public sealed partial class GrpoLearner
{
    private ScoredRollouts Sample(IReadOnlyList<PromptExample> prompts)
    {
        if (!Cfg.FilterGroups)
            return Round(prompts);

        int g = Cfg.NumGenerations, want = Cfg.BatchSize;
        var rounds = new List<ScoredRollouts>();
        var kept = new List<(int Round, int Group)>();
        var dropped = new List<(int Round, int Group)>();
        double firstZeroStd = 0;
        var next = prompts;
        while (true)
        {
            var round = Round(next);
            rounds.Add(round);
            var keep = DynamicSampling.KeptGroups(Tensor.FromArray(round.Scores, round.Scores.Length), g);
            int groups = round.Scores.Length / g;
            if (rounds.Count == 1)
                firstZeroStd = (groups - keep.Length) / (double)groups;
            var keepSet = keep.ToHashSet();
            for (int p = 0; p < groups; p++)
                (keepSet.Contains(p) ? kept : dropped).Add((rounds.Count - 1, p));
            if (kept.Count >= want || rounds.Count >= Cfg.MaxNumGenBatches)
                break;
            next = _nextPrompts!();
        }

        // The batch: the first batch_size kept groups; short of them, the first dropped ones fill it.
        int toppedUp = Math.Max(0, want - kept.Count);
        var chosen = kept.Take(want).Concat(dropped.Take(toppedUp)).Order().ToList();
        var rows = new List<int>[rounds.Count];
        for (int r = 0; r < rounds.Count; r++)
            rows[r] = [.. chosen.Where(c => c.Round == r).SelectMany(c => Enumerable.Range(c.Group * g, g))];
        double[] Pick(Func<ScoredRollouts, double[]> of) => [.. Enumerable.Range(0, rounds.Count).SelectMany(r => rows[r].Select(i => of(rounds[r])[i]))];

        var rollout = RolloutConcat.Concat([.. Enumerable.Range(0, rounds.Count).Select(r => rounds[r].Rollout.Select(rows[r]))], Ctx.Tokenizer.PadTokenId ?? 0);
        var components = rounds[0].Components.Keys.ToDictionary(k => k, k => Pick(s => s.Components[k]));
        var metrics = new Dictionary<string, double>(rounds[^1].Metrics)
        {
            ["dynamic_sampling/gen_batches"] = rounds.Count,
            ["dynamic_sampling/resampled_prompts"] = (rounds.Count - 1) * want,
            ["dynamic_sampling/dropped_groups"] = dropped.Count,
            ["dynamic_sampling/topped_up_groups"] = toppedUp,
            ["dynamic_sampling/first_round_zero_std"] = firstZeroStd,
        };
        var penalties = Pick(s => s.Penalties);
        if (Cfg.OverlongBufferLen > 0)
            AddOverlongMetrics(metrics, penalties);
        return new ScoredRollouts(
            rollout,
            new RolloutShard(0, rollout.Count, rollout.Count, rollout.Lengths),
            Pick(s => s.Scores),
            penalties,
            rounds[0].Gold is null ? null : Pick(s => s.Gold!),
            Pick(s => s.Ended),
            components,
            metrics);
    }

    /// <summary>One generation round: G responses to each prompt (this rank's share), scored.</summary>
    private ScoredRollouts Round(IReadOnlyList<PromptExample> prompts)
    {
        int g = Cfg.NumGenerations;
        var rows = prompts.SelectMany(p => Enumerable.Repeat(p, g)).ToList(); // a prompt's G rows are contiguous
        // On several ranks each answers its share of the prompts, whole groups, so advantages stay local.
        var (rollout, shard) = Generate(rows, g);
        // The whole batch's scores (each rank scores its rows), so normalisers and metrics see them all.
        var scores = Ctx.Reward.ScoreExamples(rollout.Prompts, rollout.Texts, x => Dp.Gather(x, "scores"));
        var components = Ctx.Reward.LastComponents.ToDictionary(kv => kv.Key, kv => kv.Value);
        var dialogues = rollout.Prompts.Select(p => p.Messages).ToList();
        var gold = Ctx.Gold is { } goldSource ? Dp.Gather(goldSource.ScoreDialogues(dialogues, rollout.Texts), "gold scores") : null;
        var ended = Dp.Gather([.. rollout.Ended.Select(e => e ? 1.0 : 0.0)], "ended");
        var penalties = OverlongPenalties(shard.Lengths);
        for (int i = 0; i < scores.Length; i++)
            scores[i] += penalties[i];
        var metrics = new Dictionary<string, double>();
        if (Cfg.OverlongBufferLen > 0)
            AddOverlongMetrics(metrics, penalties);
        return new ScoredRollouts(rollout, shard, scores, penalties, gold, ended, components, metrics);
    }

    /// <summary>DAPO's soft overlong punishment (Yu et al. 2025, eq. 13) times overlong_penalty_factor for each length; 0 when off.</summary>
    private double[] OverlongPenalties(IReadOnlyList<int> lengths)
    {
        var penalties = new double[lengths.Count];
        if (Cfg.OverlongBufferLen > 0)
        {
            for (int i = 0; i < penalties.Length; i++)
                penalties[i] = Cfg.OverlongPenaltyFactor * OverlongPenalty.Of(lengths[i], Cfg.EffectiveOverlongMaxLength, Cfg.OverlongBufferLen);
        }
        return penalties;
    }

    private static void AddOverlongMetrics(Dictionary<string, double> metrics, double[] penalties)
    {
        metrics["overlong/penalty"] = penalties.Average();
        metrics["overlong/penalized_fraction"] = penalties.Count(p => p < 0) / (double)penalties.Length;
    }
}
