using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// ORPO, monolithic preference optimisation without a reference model (Hong et al. 2024, eq. 6–7):
/// with m the length-normalised log-prob of a response (<see cref="Dpo.SequenceLogProbs.Mean"/>) and
/// p = eᵐ, odds(y) = p/(1 − p), so log odds(y) = m − log(1 − eᵐ). The loss is
/// L = L_NLL(y_w) − λ·mean log σ(log odds(y_w) − log odds(y_l)), λ = <c>beta</c> (TRL's default 0.1).
/// L_NLL defaults to the paper's eq. 2, −mean of m_w over the batch; TRL passes the token-level
/// cross-entropy of the chosen batch instead, which a caller can hand in as <c>nllLoss</c>.
/// </summary>
public static class OrpoLoss
{
    /// <summary>
    /// The largest mean log-prob used: −2⁻²⁴, where eᵐ rounds to 1 in float32. A mean log-prob closer
    /// to 0 (a response the policy is certain of) is read as this value, so its log odds stay finite
    /// (≈ 16.6); its gradient is the derivative there, so a near-certain rejected response is still pushed down.
    /// </summary>
    public const float MaxMeanLogProb = -5.9604645e-8f;

    /// <summary>
    /// ORPO loss and TRL's metrics.
    /// policyChosen [B], policyRejected [B] (length-normalised log-probs), nllLoss [] or null -> <see cref="OrpoOutput"/> (Loss [])
    /// </summary>
    public static OrpoOutput Compute(Tensor policyChosen, Tensor policyRejected, double beta = 0.1, Tensor? nllLoss = null)
    {
        if (!(beta > 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta (ORPO's λ) must be a positive finite number (TRL's default is 0.1)");
        int b = policyChosen.Numel;
        if (policyChosen.Rank != 1 || policyRejected.Rank != 1 || policyRejected.Numel != b || b == 0)
            throw new ShapeMismatchException("OrpoLoss", $"chosen and rejected log-probs must both be [B] with the same B ≥ 1; got [{string.Join(", ", policyChosen.Shape)}] and [{string.Join(", ", policyRejected.Shape)}]");
        if (nllLoss is not null && nllLoss.Rank != 0)
            throw new ShapeMismatchException("OrpoLoss", $"nllLoss must be a scalar []; got [{string.Join(", ", nllLoss.Shape)}]");

        // log odds ratio, [B] (Hong et al. 2024, eq. 7)
        var ratio = LogOdds(policyChosen).Sub(LogOdds(policyRejected));
        // log σ(x) = −softplus(−x), stable for large |x|
        var logSigmoid = ratio.Neg().Softplus().Neg();
        var nll = nllLoss ?? policyChosen.Mean().Neg();
        var loss = nll.Sub(logSigmoid.Mean().Mul(beta));

        var m = PairRewardMetrics.Of(policyChosen.ToArray(), policyRejected.ToArray(), beta);
        return new OrpoOutput(
            loss, nll.Item(), Mean(logSigmoid.ToArray()), Mean(ratio.ToArray()),
            m.RewardsChosen, m.RewardsRejected, m.RewardsAccuracies, m.RewardsMargins, m.LogpsChosen, m.LogpsRejected);
    }

    /// <summary>
    /// log odds(y) = m − log(1 − eᵐ), m [B] -> [B]. 1 − eᵐ cancels catastrophically as m → 0, and the
    /// tensor engine has no log1p/expm1, so it is written with t = tanh(−m/2) ∈ [0, 1), for which
    /// eᵐ = (1 − t)/(1 + t) and 1 − eᵐ = 2t/(1 + t) exactly: log odds = m − log(2t) + log(1 + t).
    /// tanh is accurate to float32 relative precision near 0, and no term subtracts nearly equal numbers.
    /// </summary>
    internal static Tensor LogOdds(Tensor meanLogProbs)
    {
        // Values above the cap read as the cap; the gradient passes straight through (see MaxMeanLogProb).
        // (x − detach(x) is exactly 0 in value and 1 in gradient.)
        var m = meanLogProbs.Clamp(max: MaxMeanLogProb).Detach().Add(meanLogProbs.Sub(meanLogProbs.Detach()));
        var t = m.Mul(-0.5f).Tanh();
        return m.Sub(t.Mul(2f).Log()).Add(t.Add(1f).Log());
    }

    private static double Mean(float[] values)
    {
        double sum = 0;
        foreach (var v in values)
            sum += v;
        return sum / Math.Max(values.Length, 1);
    }
}
