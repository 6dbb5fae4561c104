using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Critic-free RL (<c>rlhf grpo</c>): G responses per prompt, advantages from the group's scores
/// (GRPO's normalisation or RLOO's leave-one-out baseline), a clipped token-level loss with a k3
/// KL-to-reference term. One step = <c>batch_size</c> prompts × <c>num_generations</c> responses.
/// Key names follow TRL's GRPOConfig.
/// </summary>
public sealed class GrpoConfig : RlConfig
{
    public GrpoConfig() => BatchSize = 16;

    [ConfigKey("num_generations", "Responses sampled per prompt (the group size G)")]
    public int NumGenerations { get; set; } = 8;

    [ConfigKey("advantage", "grpo (group-normalised, Shao et al. 2024) or rloo (leave-one-out baseline, Ahmadian et al. 2024)")]
    public string Advantage { get; set; } = "grpo";

    [ConfigKey("scale_rewards", "GRPO: divide by the group's std (false: Dr. GRPO's mean-only centring)")]
    public bool ScaleRewards { get; set; } = true;

    [ConfigKey("mini_batch_size", "Responses per optimizer step (split further by gradient_accumulation_steps); 0 = the whole batch")]
    public int MiniBatchSize { get; set; }

    [ConfigKey("num_iterations", "Passes over each batch (μ); more than 1 makes the clipped ratio matter")]
    public int NumIterations { get; set; } = 1;

    [ConfigKey("epsilon", "Lower clip ε of the ratio")]
    public float Epsilon { get; set; } = 0.2f;

    [ConfigKey("epsilon_high", "Upper clip (0 = epsilon; larger is DAPO's clip-higher)")]
    public float EpsilonHigh { get; set; }

    [ConfigKey("beta", "Weight of the k3 KL-to-reference term in the loss (0 = no reference needed)")]
    public float Beta { get; set; } = 0.04f;

    [ConfigKey("loss_aggregation", "token_mean (every token weighs the same) or seq_mean (the paper's per-response mean)")]
    public string LossAggregationMode { get; set; } = "token_mean";

    internal LossAggregation ParsedAggregation => LossAggregationMode == "seq_mean" ? LossAggregation.SeqMeanTokenMean : LossAggregation.TokenMean;

    internal int RowsPerStep => BatchSize * NumGenerations;

    internal int EffectiveMiniBatch => MiniBatchSize > 0 ? MiniBatchSize : RowsPerStep;

    // Registered estimators whose inputs GrpoLearner does not pass yet.
    private static readonly string[] NotYetInTheLearner = ["reinforce_plus_plus", "reinforce_plus_plus_baseline", "remax"];

    /// <summary>The critic-free advantage estimators <c>rlhf grpo</c> runs.</summary>
    public static IReadOnlyList<string> Supported { get; } = [.. AdvantageEstimators.CriticFree.Except(NotYetInTheLearner)];

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (NumGenerations < 2)
            yield return $"num_generations must be at least 2 (a group needs a baseline), got {NumGenerations}";
        if (NotYetInTheLearner.Contains(Advantage))
            yield return $"advantage: '{Advantage}' is in the algorithm registry but rlhf grpo does not give it its inputs yet (the KL in the reward, batch-wide normalisation across ranks, a greedy rollout per prompt); valid here: {string.Join(", ", Supported)}";
        else if (!Supported.Contains(Advantage))
            yield return $"advantage: unknown critic-free advantage estimator '{Advantage}'; valid: {string.Join(", ", Supported)}";
        if (MiniBatchSize < 0 || RowsPerStep % EffectiveMiniBatch != 0)
            yield return $"mini_batch_size ({MiniBatchSize}) must divide batch_size × num_generations ({RowsPerStep})";
        if (EffectiveMiniBatch % GradientAccumulationSteps != 0)
            yield return $"gradient_accumulation_steps ({GradientAccumulationSteps}) must divide the mini-batch ({EffectiveMiniBatch})";
        if (NumIterations <= 0)
            yield return $"num_iterations must be positive, got {NumIterations}";
        if (!(Epsilon > 0 && Epsilon < 1) || EpsilonHigh < 0 || Beta < 0)
            yield return "epsilon must be in (0, 1), epsilon_high and beta >= 0";
        if (LossAggregationMode is not ("token_mean" or "seq_mean"))
            yield return $"loss_aggregation must be token_mean or seq_mean, got '{LossAggregationMode}'";
    }
}
