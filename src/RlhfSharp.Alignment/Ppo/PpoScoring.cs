using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment.Ppo;

// PPO's scoring half, in the order a step runs it: per-token rewards from the score and the KL to
// the reference (TokenRewards), generalized advantage estimation (Gae), then whitening (Whitening).

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

/// <summary>Per-token rewards and what went into them; tensors are float64, 0 on padding.</summary>
/// <param name="Rewards">[B, T]: −β·KL_t on every real token plus the score on the last one.</param>
/// <param name="KlPenalty">[B, T]: the −β·KL_t part alone (TRL's non_score_reward).</param>
/// <param name="Kl">[B, T]: KL_t itself, under the configured estimator.</param>
/// <param name="Scores">[B]: the scores actually added, after the EOS penalty, normalisation and clipping.</param>
/// <param name="MeanSequenceKl">Mean over responses of Σ_t KL_t: what the KL controller observes and what is logged as objective/kl.</param>
public sealed record TokenRewardsOutput(Tensor Rewards, Tensor KlPenalty, Tensor Kl, Tensor Scores, double MeanSequenceKl);

/// <summary>
/// Per-token rewards for PPO on language models (Ouyang et al. 2022, eq. 2; Ziegler et al. 2019,
/// §2.2): r_t = −β·KL_t on every response token, plus the reward model's sequence score at the
/// last real response token.
/// </summary>
public static class TokenRewards
{
    /// <summary>
    /// scores [B]: reward-model score of each response; ended [B]: nonzero where the response ended
    /// with EOS (0: truncated); oldLogp [B, T], refLogp [B, T]: log-probabilities of the response
    /// tokens under the policy that sampled them and under the reference; responseMask [B, T]
    /// (every row needs at least one real token); beta: the KL coefficient β. Computed in float64
    /// without gradients. The score goes through, in order: missing-EOS penalty, the running
    /// normaliser (when given: first updated with this batch's scores, then applied), clipping to ±c.
    /// </summary>
    public static TokenRewardsOutput Compute(
        Tensor scores,
        Tensor ended,
        Tensor oldLogp,
        Tensor refLogp,
        Tensor responseMask,
        double beta,
        TokenRewardOptions? options = null,
        RunningMoments? moments = null)
    {
        const string Caller = "TokenRewards.Compute";
        options ??= new TokenRewardOptions();
        ResponseMask.CheckShape(oldLogp, responseMask, Caller, "oldLogp");
        ResponseMask.CheckShape(refLogp, responseMask, Caller, "refLogp");
        ResponseMask.CheckRows(scores, responseMask, Caller, "scores");
        ResponseMask.CheckRows(ended, responseMask, Caller, "ended");
        if (!(beta >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{Caller}: beta must be >= 0");
        if (options.MissingEosPenalty is { } p && !(p >= 0))
            throw new ArgumentOutOfRangeException(nameof(options), p, $"{Caller}: MissingEosPenalty must be >= 0");
        if (options.ScoreClip is { } c && !(c > 0))
            throw new ArgumentOutOfRangeException(nameof(options), c, $"{Caller}: ScoreClip must be > 0");
        var lengths = ResponseMask.Lengths(responseMask, Caller);
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] == 0)
                throw new ArgumentException($"{Caller}: response {b} has no real tokens, so there is no last token to carry its score");

        var finalScores = FinalScores(scores.ToDoubleArray(), ended.ToDoubleArray(), options, moments);
        return FromFinalScores(finalScores, oldLogp, refLogp, responseMask, lengths, beta, options);
    }

    /// <summary>
    /// As <see cref="Compute"/>, with the scores already through <see cref="FinalScores"/>: a
    /// data-parallel rank processes the whole batch's scores (so the running normaliser sees all
    /// of them, as one process would) and passes on its own rows' share.
    /// </summary>
    public static TokenRewardsOutput ComputeFromFinalScores(double[] finalScores, Tensor oldLogp, Tensor refLogp, Tensor responseMask, double beta, TokenRewardOptions? options = null)
    {
        const string Caller = "TokenRewards.ComputeFromFinalScores";
        options ??= new TokenRewardOptions();
        ResponseMask.CheckShape(oldLogp, responseMask, Caller, "oldLogp");
        ResponseMask.CheckShape(refLogp, responseMask, Caller, "refLogp");
        if (finalScores.Length != responseMask.Size(0))
            throw new ArgumentException($"{Caller}: {finalScores.Length} scores for {responseMask.Size(0)} responses");
        if (!(beta >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{Caller}: beta must be >= 0");
        var lengths = ResponseMask.Lengths(responseMask, Caller);
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] == 0)
                throw new ArgumentException($"{Caller}: response {b} has no real tokens, so there is no last token to carry its score");
        return FromFinalScores(finalScores, oldLogp, refLogp, responseMask, lengths, beta, options);
    }

    private static TokenRewardsOutput FromFinalScores(double[] finalScores, Tensor oldLogp, Tensor refLogp, Tensor responseMask, int[] lengths, double beta, TokenRewardOptions options)
    {
        int rows = responseMask.Size(0), cols = responseMask.Size(1);
        var kl = Masked.Zeroed(KlEstimators.PerToken(oldLogp.Double(), refLogp.Double(), options.KlEstimator), responseMask).ToDoubleArray();
        var rewards = new double[rows * cols];
        var penalty = new double[rows * cols];
        double klSum = 0;
        for (int b = 0; b < rows; b++)
        {
            for (int t = 0; t < lengths[b]; t++)
            {
                int i = (b * cols) + t;
                penalty[i] = -beta * kl[i];
                rewards[i] = penalty[i];
                klSum += kl[i];
            }
            rewards[(b * cols) + lengths[b] - 1] += finalScores[b];
        }
        return new TokenRewardsOutput(
            Tensor.FromArray(rewards, rows, cols), Tensor.FromArray(penalty, rows, cols), Tensor.FromArray(kl, rows, cols),
            Tensor.FromArray(finalScores, rows), klSum / rows);
    }

    /// <summary>
    /// The scores that reach the last tokens, in order: the missing-EOS penalty (ended[b] = 0: no
    /// EOS), the running normaliser (first updated with these scores, then applied), clipping.
    /// Changes <paramref name="s"/> in place and returns it.
    /// </summary>
    public static double[] FinalScores(double[] s, double[] ended, TokenRewardOptions options, RunningMoments? moments)
    {
        if (options.MissingEosPenalty is { } penalty)
            for (int b = 0; b < s.Length; b++)
                if (ended[b] == 0)
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

/// <summary>
/// Generalized advantage estimation (Schulman et al. 2015, eq. 16):
/// δ_t = r_t + γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}, returns R_t = A_t + V_t.
/// </summary>
public static class Gae
{
    /// <summary>
    /// Advantages and returns, computed backwards over each row's real tokens in float64 (no
    /// gradient). The value after the last real token is 0 (the response ended: terminal state);
    /// padding gets advantage 0 and return 0, whatever rewards and values hold there.
    /// rewards [B, T] (per-token), values [B, T] (critic V_t), responseMask [B, T]
    /// -> (advantages [B, T], returns [B, T]), float64
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) Compute(Tensor rewards, Tensor values, Tensor responseMask, double gamma, double lambda)
    {
        ResponseMask.CheckShape(rewards, responseMask, "Gae.Compute", "rewards");
        ResponseMask.CheckShape(values, responseMask, "Gae.Compute", "values");
        if (!(gamma >= 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), $"Gae.Compute: gamma ({gamma}) and lambda ({lambda}) must lie in [0, 1]");
        var lengths = ResponseMask.Lengths(responseMask, "Gae.Compute");
        int rows = responseMask.Size(0), cols = responseMask.Size(1);
        var r = rewards.ToDoubleArray();
        var v = values.ToDoubleArray();
        var advantages = new double[rows * cols];
        var returns = new double[rows * cols];
        for (int b = 0; b < rows; b++)
        {
            double nextValue = 0, nextAdvantage = 0; // past the last real token: terminal
            for (int t = lengths[b] - 1; t >= 0; t--)
            {
                int i = (b * cols) + t;
                double delta = r[i] + (gamma * nextValue) - v[i];
                double advantage = delta + (gamma * lambda * nextAdvantage);
                advantages[i] = advantage;
                returns[i] = advantage + v[i];
                nextValue = v[i];
                nextAdvantage = advantage;
            }
        }
        return (Tensor.FromArray(advantages, rows, cols), Tensor.FromArray(returns, rows, cols));
    }
}

/// <summary>
/// Advantage whitening over real tokens only (TRL's <c>masked_whiten</c>; the normalisation of
/// advantages used by PPO implementations since OpenAI baselines): (x − mean)/√(var + eps) with
/// mean and unbiased variance taken over the real tokens of the whole batch. With fewer than two
/// real tokens (every response shorter than two tokens in a batch of one, say) the variance is
/// undefined: the values are then only centred (scale 1), so a single token's advantage is 0; on
/// one rank a batch with no real tokens gives zeros.
/// </summary>
public static class Whitening
{
    /// <summary>
    /// Whitened values, float64 without gradient; with shiftMean false the mean is added back (only
    /// the scale changes). Padding gets 0. values [B, T], responseMask [B, T] -> [B, T]
    /// </summary>
    public static Tensor Whiten(Tensor values, Tensor responseMask, bool shiftMean = true, double eps = 1e-8) =>
        Whiten(values, responseMask, SingleProcessCommunicator.Instance, shiftMean, eps);

    /// <summary>
    /// As <see cref="Whiten(Tensor, Tensor, bool, double)"/> on one rank's rows of a batch spread over
    /// the ranks of <paramref name="comm"/>: the mean and variance are those of every rank's real tokens.
    /// </summary>
    public static Tensor Whiten(Tensor values, Tensor responseMask, Communicator comm, bool shiftMean = true, double eps = 1e-8)
    {
        ResponseMask.CheckShape(values, responseMask, "Whitening.Whiten", "values");
        ResponseMask.Lengths(responseMask, "Whitening.Whiten");
        var x = values.Double();
        if (comm.Size == 1 && Masked.Count(responseMask) == 0)
            return Masked.Zeroed(x, responseMask); // all padding
        var (mean, variance) = GlobalMasked.MeanVariance(x, responseMask, comm);
        // Fewer than two real tokens over every rank: the unbiased variance is 0/0, there is no
        // spread to scale by. (A NaN among the values makes the mean NaN too, and stays visible.)
        double scale = double.IsNaN(variance) && double.IsFinite(mean) ? 1 : 1 / Math.Sqrt(variance + eps);
        var whitened = x.Sub(mean).Mul(scale);
        return Masked.Zeroed(shiftMean ? whitened : whitened.Add(mean), responseMask);
    }
}
