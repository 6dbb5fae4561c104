using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>Per-token rewards and what went into them.</summary>
/// <param name="Rewards">[B, T]: −β·KL_t on every real token plus the score on the last one; 0 on padding.</param>
/// <param name="KlPenalty">[B, T]: the −β·KL_t part alone (TRL's non_score_reward); 0 on padding.</param>
/// <param name="Kl">[B, T]: KL_t itself; 0 on padding.</param>
/// <param name="Scores">[B]: the scores actually added, after the EOS penalty, normalisation and clipping.</param>
/// <param name="MeanSequenceKl">Mean over responses of Σ_t KL_t (what the KL controller observes, TRL's objective/kl).</param>
public sealed record TokenRewardsResult(double[,] Rewards, double[,] KlPenalty, double[,] Kl, double[] Scores, double MeanSequenceKl);

/// <summary>
/// Per-token rewards for PPO on language models (Ouyang et al. 2022, eq. 2; Ziegler et al. 2019,
/// §2.2): r_t = −β·KL_t on every response token, plus the reward model's sequence score at the
/// last real response token.
/// </summary>
public static class TokenRewards
{
    /// <summary>
    /// scores [B]: reward-model score of each response; hasEos [B]: whether the response ended with
    /// EOS (false: truncated); logp [B, T], logpRef [B, T]: log-probabilities of the response tokens
    /// under the policy that sampled them and under the reference; mask [B, T]: 1 real response
    /// token, 0 padding (every row needs at least one real token); beta: the KL coefficient β.
    /// The score goes through, in order: missing-EOS penalty, the running normaliser (when given:
    /// first updated with this batch's scores, then applied), clipping to ±c.
    /// </summary>
    public static TokenRewardsResult Compute(
        double[] scores,
        bool[] hasEos,
        double[,] logp,
        double[,] logpRef,
        double[,] mask,
        double beta,
        TokenRewardOptions? options = null,
        RunningMoments? moments = null)
    {
        const string Caller = "TokenRewards.Compute";
        options ??= new TokenRewardOptions();
        int rows = mask.GetLength(0), cols = mask.GetLength(1);
        if (scores.Length != rows || hasEos.Length != rows)
            throw new ArgumentException($"{Caller}: {scores.Length} scores and {hasEos.Length} EOS flags for {rows} responses; both must be [B]");
        if (!(beta >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{Caller}: beta must be >= 0");
        if (options.MissingEosPenalty is { } p && !(p >= 0))
            throw new ArgumentOutOfRangeException(nameof(options), p, $"{Caller}: MissingEosPenalty must be >= 0");
        if (options.ScoreClip is { } c && !(c > 0))
            throw new ArgumentOutOfRangeException(nameof(options), c, $"{Caller}: ScoreClip must be > 0");
        var lengths = ResponseMask.Lengths(mask, Caller);
        for (int b = 0; b < rows; b++)
            if (lengths[b] == 0)
                throw new ArgumentException($"{Caller}: response {b} has no real tokens, so there is no last token to carry its score");

        var kl = KlEstimators.PerToken(logp, logpRef, mask, options.KlEstimator);
        var finalScores = ProcessScores(scores, hasEos, options, moments);
        var rewards = new double[rows, cols];
        var penalty = new double[rows, cols];
        double klSum = 0;
        for (int b = 0; b < rows; b++)
        {
            for (int t = 0; t < lengths[b]; t++)
            {
                penalty[b, t] = -beta * kl[b, t];
                rewards[b, t] = penalty[b, t];
                klSum += kl[b, t];
            }
            rewards[b, lengths[b] - 1] += finalScores[b];
        }
        return new TokenRewardsResult(rewards, penalty, kl, finalScores, klSum / rows);
    }

    /// <summary>
    /// The same on tensors (no gradient; computed in float64). scores [B], hasEos [B] (nonzero: ended
    /// with EOS), logp [B, T], logpRef [B, T], mask [B, T] -> (rewards [B, T], result in plain numbers).
    /// </summary>
    public static (Tensor Rewards, TokenRewardsResult Details) Compute(
        Tensor scores,
        Tensor hasEos,
        Tensor logp,
        Tensor logpRef,
        Tensor mask,
        double beta,
        TokenRewardOptions? options = null,
        RunningMoments? moments = null)
    {
        var result = Compute(
            [.. scores.ToArray().Select(s => (double)s)],
            [.. hasEos.ToArray().Select(e => e != 0)],
            ResponseMask.ToGrid(logp),
            ResponseMask.ToGrid(logpRef),
            ResponseMask.ToGrid(mask),
            beta,
            options,
            moments);
        return (ResponseMask.FromGrid(result.Rewards), result);
    }

    private static double[] ProcessScores(double[] scores, bool[] hasEos, TokenRewardOptions options, RunningMoments? moments)
    {
        var s = (double[])scores.Clone();
        if (options.MissingEosPenalty is { } penalty)
            for (int b = 0; b < s.Length; b++)
                if (!hasEos[b])
                    s[b] = options.MissingEosMode == MissingEosMode.Offset ? s[b] - penalty : -penalty;
        if (moments is not null)
        {
            moments.Update(s);
            for (int b = 0; b < s.Length; b++)
                s[b] = moments.Normalize(s[b], options.ScoreNormShiftMean);
        }
        if (options.ScoreClip is { } clip)
            for (int b = 0; b < s.Length; b++)
                s[b] = Math.Clamp(s[b], -clip, clip);
        return s;
    }
}
