using RlhfSharp.Alignment.Kl;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>What a missing-EOS penalty does to the score of a response that never generated EOS.</summary>
public enum MissingEosMode
{
    /// <summary>score − penalty (TRL's <c>missing_eos_penalty</c>).</summary>
    Offset,

    /// <summary>score := −penalty (older TRL's <c>non_eos_penalty</c> with <c>penalty_reward_value</c>).</summary>
    Replace,
}

/// <summary>How sequence scores become per-token rewards (see <see cref="TokenRewards"/>).</summary>
public sealed record TokenRewardOptions
{
    /// <summary>The per-token KL estimate in −β·KL_t; K1 (logp − logp_ref) as Ziegler et al. and TRL.</summary>
    public KlEstimator KlEstimator { get; init; } = KlEstimator.K1;

    /// <summary>Penalty ≥ 0 for responses without EOS (truncated at the length limit); null: none.</summary>
    public double? MissingEosPenalty { get; init; }

    /// <summary>Whether the penalty offsets or replaces the score.</summary>
    public MissingEosMode MissingEosMode { get; init; } = MissingEosMode.Offset;

    /// <summary>Clip scores to [−c, c] after normalisation; null: no clipping.</summary>
    public double? ScoreClip { get; init; }

    /// <summary>With running moments: subtract the running mean before dividing by the running std (else only scale).</summary>
    public bool ScoreNormShiftMean { get; init; } = true;
}
