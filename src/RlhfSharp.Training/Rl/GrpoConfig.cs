using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Critic-free RL (<c>rlhf grpo</c>): G responses per prompt, advantages from the registered
/// critic-free estimators (GRPO, RLOO, REINFORCE++, ReMax), a clipped token-level loss with a k3
/// KL-to-reference term, and DAPO's overlong punishment and dynamic sampling. One step =
/// <c>batch_size</c> prompts × <c>num_generations</c> responses. Key names follow TRL's
/// GRPOConfig, OpenRLHF's for REINFORCE++ and verl's for DAPO.
/// </summary>
public sealed class GrpoConfig : RlConfig
{
    public GrpoConfig() => BatchSize = 16;

    [ConfigKey("num_generations", "Responses sampled per prompt (the group size G)")]
    public int NumGenerations { get; set; } = 8;

    [ConfigKey("advantage", "grpo (group-normalised, Shao et al. 2024), rloo (leave-one-out, Ahmadian et al. 2024), reinforce_plus_plus (KL in the reward, batch-whitened returns, Hu 2025), reinforce_plus_plus_baseline (the same after subtracting the group's mean score) or remax (the greedy answer's score as baseline, Li et al. 2023)")]
    public string Advantage { get; set; } = "grpo";

    [ConfigKey("scale_rewards", "GRPO: divide by the group's std (false: Dr. GRPO's mean-only centring)")]
    public bool ScaleRewards { get; set; } = true;

    [ConfigKey("mini_batch_size", "Responses per optimizer step (split further by gradient_accumulation_steps); 0 = the whole batch")]
    public int MiniBatchSize { get; set; }

    [ConfigKey("num_iterations", "Passes over each batch (μ); more than 1 makes the clipped ratio matter")]
    public int NumIterations { get; set; } = 1;

    [ConfigKey("epsilon", "Lower clip ε of the ratio (GSPO's sequence ratio wants a small one, e.g. 3e-4)")]
    public float Epsilon { get; set; } = 0.2f;

    [ConfigKey("epsilon_high", "Upper clip (0 = epsilon; larger is DAPO's clip-higher)")]
    public float EpsilonHigh { get; set; }

    [ConfigKey("beta", "Weight of the k3 KL-to-reference term in the loss; empty = 0.04, but 0 for the reinforce_plus_plus estimators, which put the KL in the reward instead (init_kl_coef)")]
    public float? Beta { get; set; }

    [ConfigKey("init_kl_coef", "reinforce_plus_plus estimators: β of the per-token reward −β·KL_t (OpenRLHF's name)")]
    public float InitKlCoef { get; set; } = 0.01f;

    [ConfigKey("kl_estimator", "reinforce_plus_plus estimators: the per-token KL in the reward, k1 (log ratio, OpenRLHF's default), k2 or k3")]
    public string KlEstimator { get; set; } = "k1";

    [ConfigKey("gamma", "reinforce_plus_plus estimators: discount γ of the returns")]
    public float Gamma { get; set; } = 1f;

    [ConfigKey("loss_aggregation", "token_mean (every token weighs the same) or seq_mean (the paper's per-response mean); empty = token_mean, but seq_mean for policy_loss gspo, which is defined per sequence")]
    public string? LossAggregationMode { get; set; }

    [ConfigKey("overlong_buffer_len", "DAPO's soft overlong punishment (Yu et al. 2025, eq. 13): the buffer L_cache in tokens before overlong_max_length where the penalty falls from 0 to −overlong_penalty_factor (0 = off; verl's overlong_buffer.len)")]
    public int OverlongBufferLen { get; set; }

    [ConfigKey("overlong_max_length", "The L_max of the overlong punishment in tokens (0 = response_length); longer responses get the full penalty")]
    public int OverlongMaxLength { get; set; }

    [ConfigKey("overlong_penalty_factor", "Scale of the overlong penalty added to the score (verl's overlong_buffer.penalty_factor)")]
    public float OverlongPenaltyFactor { get; set; } = 1f;

    [ConfigKey("filter_groups", "DAPO's dynamic sampling (verl's filter_groups): drop groups whose scores are all equal and sample further prompt batches until batch_size groups remain")]
    public bool FilterGroups { get; set; }

    [ConfigKey("max_num_gen_batches", "Dynamic sampling: most generation rounds per step, the first included; when hit, the batch is topped up with dropped groups")]
    public int MaxNumGenBatches { get; set; } = 4;

    internal bool IsReinforcePlusPlus => Advantage is "reinforce_plus_plus" or "reinforce_plus_plus_baseline";

    internal bool IsGspo => PolicyLoss == "gspo";

    /// <summary>The k3 KL term's weight in the loss: beta, else 0.04 (0 for REINFORCE++, whose KL is in the reward).</summary>
    internal double EffectiveBeta => Beta ?? (IsReinforcePlusPlus ? 0 : 0.04);

    /// <summary>β of the KL in the reward: init_kl_coef for REINFORCE++, else 0.</summary>
    internal double RewardKlCoef => IsReinforcePlusPlus ? InitKlCoef : 0;

    internal int EffectiveOverlongMaxLength => OverlongMaxLength > 0 ? OverlongMaxLength : ResponseLength;

    internal LossAggregation ParsedAggregation => (LossAggregationMode ?? (IsGspo ? "seq_mean" : "token_mean")) == "seq_mean" ? LossAggregation.SeqMeanTokenMean : LossAggregation.TokenMean;

    internal int RowsPerStep => BatchSize * NumGenerations;

    internal int EffectiveMiniBatch => MiniBatchSize > 0 ? MiniBatchSize : RowsPerStep;

    /// <summary>The critic-free advantage estimators <c>rlhf grpo</c> runs.</summary>
    public static IReadOnlyList<string> Supported { get; } = AdvantageEstimators.CriticFree;

    // Estimators whose advantage of a group of equal scores is 0, so dropping such groups loses nothing.
    private static readonly string[] GroupEstimators = ["grpo", "rloo", "reinforce_plus_plus_baseline"];

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (NumGenerations < 1 || (NumGenerations < 2 && GroupEstimators.Contains(Advantage)))
            yield return $"num_generations must be at least 2 for advantage {Advantage} (a group needs a baseline; 1 only for reinforce_plus_plus and remax), got {NumGenerations}";
        if (!Supported.Contains(Advantage))
            yield return $"advantage: unknown critic-free advantage estimator '{Advantage}'; valid: {string.Join(", ", Supported)}";
        if (MiniBatchSize < 0 || RowsPerStep % EffectiveMiniBatch != 0)
            yield return $"mini_batch_size ({MiniBatchSize}) must divide batch_size × num_generations ({RowsPerStep})";
        if (EffectiveMiniBatch % GradientAccumulationSteps != 0)
            yield return $"gradient_accumulation_steps ({GradientAccumulationSteps}) must divide the mini-batch ({EffectiveMiniBatch})";
        if (NumIterations <= 0)
            yield return $"num_iterations must be positive, got {NumIterations}";
        if (!(Epsilon > 0 && Epsilon < 1) || EpsilonHigh < 0 || Beta < 0)
            yield return "epsilon must be in (0, 1), epsilon_high and beta >= 0";
        if (LossAggregationMode is not (null or "token_mean" or "seq_mean"))
            yield return $"loss_aggregation must be token_mean or seq_mean, got '{LossAggregationMode}'";
        if (IsGspo && LossAggregationMode == "token_mean")
            yield return "loss_aggregation: token_mean does not apply to policy_loss gspo, whose ratio and loss are per sequence; leave loss_aggregation empty or set seq_mean";
        if (InitKlCoef < 0 || !(Gamma >= 0 && Gamma <= 1))
            yield return "init_kl_coef must be >= 0 and gamma in [0, 1]";
        if (!KlEstimators.Names.Contains(KlEstimator))
            yield return $"kl_estimator: unknown KL estimator '{KlEstimator}'; valid: {string.Join(", ", KlEstimators.Names)}";
        if (OverlongBufferLen < 0 || OverlongMaxLength < 0 || OverlongPenaltyFactor < 0)
            yield return "overlong_buffer_len, overlong_max_length and overlong_penalty_factor must be >= 0";
        else if (OverlongBufferLen > EffectiveOverlongMaxLength)
            yield return $"overlong_buffer_len ({OverlongBufferLen}) is longer than the overlong L_max ({EffectiveOverlongMaxLength}, overlong_max_length or else response_length); the buffer must fit inside it";
        else if (OverlongMaxLength > ResponseLength)
            yield return $"overlong_max_length ({OverlongMaxLength}) exceeds response_length ({ResponseLength}): no response can be that long; set it to response_length or less";
        if (FilterGroups)
        {
            if (NumGenerations < 2)
                yield return $"filter_groups (dynamic sampling) needs groups of at least 2 responses to tell equal scores apart; num_generations is {NumGenerations}";
            if (!GroupEstimators.Contains(Advantage))
                yield return $"filter_groups drops groups of equal scores, which carry no advantage only under {string.Join(", ", GroupEstimators)}; advantage is '{Advantage}'";
            if (MaxNumGenBatches < 1)
                yield return $"max_num_gen_batches must be at least 1 (the first generation round counts), got {MaxNumGenBatches}";
        }
    }
}
