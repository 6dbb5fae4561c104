using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// SimPO, simple preference optimisation without a reference model (Meng et al. 2024, eq. 6):
/// with the length-normalised log-probs m = (1/|y|)·log π(y|x) of the chosen and rejected responses
/// (<see cref="Dpo.SequenceLogProbs.Mean"/>, which counts response tokens only) and
/// h = β·(m_c − m_r) − γ, the loss per pair is −log σ(h) = softplus(−h). The target reward margin γ
/// is in reward units: SimPO's own code sets it as gamma_beta_ratio·β, TRL's CPO trainer takes it as
/// simpo_gamma. With label smoothing ε (as in conservative DPO, TRL <c>label_smoothing</c>) a pair costs
/// (1−ε)·softplus(−h) + ε·softplus(h). The loss is the mean over the B pairs.
/// </summary>
public static class SimpoLoss
{
    /// <summary>
    /// SimPO loss and TRL's metrics.
    /// policyChosen [B], policyRejected [B] (length-normalised log-probs) -> <see cref="SimpoOutput"/> (Loss [])
    /// Defaults are the paper's: β = 2, γ = 1 (γ/β = 0.5).
    /// </summary>
    public static SimpoOutput Compute(
        Tensor policyChosen,
        Tensor policyRejected,
        double beta = 2.0,
        double gamma = 1.0,
        double labelSmoothing = 0)
    {
        if (!(beta > 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a positive finite number (the SimPO paper uses 2 to 10)");
        if (!double.IsFinite(gamma) || gamma < 0)
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma, the target reward margin, must be a finite number ≥ 0 (e.g. 0.5·beta)");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must lie in [0, 0.5]");
        int b = policyChosen.Numel;
        if (policyChosen.Rank != 1 || policyRejected.Rank != 1 || policyRejected.Numel != b || b == 0)
            throw new ShapeMismatchException("SimpoLoss", $"chosen and rejected log-probs must both be [B] with the same B ≥ 1; got [{string.Join(", ", policyChosen.Shape)}] and [{string.Join(", ", policyRejected.Shape)}]");

        // h = β·(m_c − m_r) − γ, [B]
        var h = policyChosen.Sub(policyRejected).Mul(beta).Sub((float)gamma);
        // −log σ(h) = softplus(−h) and −log σ(−h) = softplus(h), stable for large |h|.
        var perPair = labelSmoothing == 0
            ? h.Neg().Softplus()
            : h.Neg().Softplus().Mul(1 - labelSmoothing).Add(h.Softplus().Mul(labelSmoothing));

        var m = PairRewardMetrics.Of(policyChosen.ToArray(), policyRejected.ToArray(), beta);
        return new SimpoOutput(perPair.Mean(), m.RewardsChosen, m.RewardsRejected, m.RewardsAccuracies, m.RewardsMargins, m.LogpsChosen, m.LogpsRejected);
    }
}
