using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// KTO, Kahneman–Tversky optimisation on unpaired examples (Ethayarajh et al. 2024, §4, as TRL's
/// <c>KTOTrainer.kto_loss</c> computes it). Each example is one response labelled desirable or
/// undesirable, with log-ratio ρ = log π(y|x) − log π_ref(y|x) (whole-sequence log-probs,
/// <see cref="Dpo.SequenceLogProbs.Sum"/>). The reference point z_ref is the batch KL estimate
/// max(0, mean(log π − log π_ref)) over mismatched pairs (a prompt with another example's response),
/// treated as a constant. A desirable example costs λ_D·(1 − σ(β·(ρ − z_ref))), an undesirable one
/// λ_U·(1 − σ(β·(z_ref − ρ))); the loss is the mean over the batch.
/// </summary>
public static class KtoLoss
{
    /// <summary>
    /// KTO loss and TRL's metrics, with z_ref estimated from the mismatched pairs of this batch.
    /// policy [B], reference [B], desirable B labels, policyKl [M], refKl [M] -> <see cref="KtoOutput"/> (Loss [])
    /// Gradients flow into <paramref name="policy"/> only: the reference and the KL pairs are constants.
    /// </summary>
    public static KtoOutput Compute(
        Tensor policy,
        Tensor reference,
        IReadOnlyList<bool> desirable,
        Tensor policyKl,
        Tensor refKl,
        double beta = 0.1,
        double desirableWeight = 1.0,
        double undesirableWeight = 1.0) =>
        Compute(policy, reference, desirable, KlEstimate(policyKl, refKl), beta, desirableWeight, undesirableWeight);

    /// <summary>
    /// KTO loss with a reference point already estimated (for example averaged over data-parallel ranks
    /// and then clamped, as TRL gathers it): z_ref ≥ 0, finite.
    /// policy [B], reference [B], desirable B labels -> <see cref="KtoOutput"/> (Loss [])
    /// </summary>
    public static KtoOutput Compute(
        Tensor policy,
        Tensor reference,
        IReadOnlyList<bool> desirable,
        double referencePoint,
        double beta = 0.1,
        double desirableWeight = 1.0,
        double undesirableWeight = 1.0)
    {
        if (!(beta > 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a positive finite number (TRL's default is 0.1)");
        if (!(desirableWeight > 0) || double.IsInfinity(desirableWeight))
            throw new ArgumentOutOfRangeException(nameof(desirableWeight), desirableWeight, "desirable_weight must be a positive finite number (TRL's default is 1)");
        if (!(undesirableWeight > 0) || double.IsInfinity(undesirableWeight))
            throw new ArgumentOutOfRangeException(nameof(undesirableWeight), undesirableWeight, "undesirable_weight must be a positive finite number (TRL's default is 1)");
        if (!(referencePoint >= 0) || double.IsInfinity(referencePoint))
            throw new ArgumentOutOfRangeException(nameof(referencePoint), referencePoint, "the reference point z_ref is a clamped KL estimate: a finite number ≥ 0");
        int b = policy.Numel;
        if (policy.Rank != 1 || reference.Rank != 1 || reference.Numel != b || b == 0)
            throw new ShapeMismatchException("KtoLoss", $"policy and reference log-probs must both be [B] with the same B ≥ 1; got [{string.Join(", ", policy.Shape)}] and [{string.Join(", ", reference.Shape)}]");
        if (desirable.Count != b)
            throw new ArgumentException($"KtoLoss: {desirable.Count} desirable/undesirable labels for B = {b} examples; give one label per example", nameof(desirable));

        // s = +1 (desirable) or −1 (undesirable) and the weight λ of each example, [B] constants
        var sign = new float[b];
        var weight = new float[b];
        for (int i = 0; i < b; i++)
        {
            sign[i] = desirable[i] ? 1f : -1f;
            weight[i] = (float)(desirable[i] ? desirableWeight : undesirableWeight);
        }

        // 1 − σ(s·β·(ρ − z_ref)) = σ(−s·β·(ρ − z_ref)), [B]
        var logRatio = policy.Sub(reference.Detach());
        var perExample = logRatio.Sub((float)referencePoint).Mul(beta).Mul(Tensor.FromArray(sign)).Neg().Sigmoid().Mul(Tensor.FromArray(weight));

        var p = policy.ToArray();
        var r = reference.ToArray();
        double rewardC = 0, rewardR = 0, logpC = 0, logpR = 0;
        int nC = 0, nR = 0;
        for (int i = 0; i < b; i++)
        {
            double reward = beta * ((double)p[i] - r[i]);
            if (desirable[i])
            {
                rewardC += reward;
                logpC += p[i];
                nC++;
            }
            else
            {
                rewardR += reward;
                logpR += p[i];
                nR++;
            }
        }
        double meanRewardC = nC > 0 ? rewardC / nC : double.NaN;
        double meanRewardR = nR > 0 ? rewardR / nR : double.NaN;
        double margins = (nC > 0 ? meanRewardC : 0) - (nR > 0 ? meanRewardR : 0);
        return new KtoOutput(
            perExample.Mean(), referencePoint, meanRewardC, meanRewardR, margins,
            nC > 0 ? logpC / nC : double.NaN, nR > 0 ? logpR / nR : double.NaN, nC, nR);
    }

    /// <summary>
    /// The reference point z_ref = max(0, mean over the M mismatched pairs of log π − log π_ref), as a
    /// plain number (no gradient). policyKl [M], refKl [M] -> z_ref
    /// </summary>
    public static double KlEstimate(Tensor policyKl, Tensor refKl)
    {
        int m = policyKl.Numel;
        if (policyKl.Rank != 1 || refKl.Rank != 1 || refKl.Numel != m || m == 0)
            throw new ShapeMismatchException("KtoLoss", $"the KL pairs' policy and reference log-probs must both be [M] with the same M ≥ 1; got [{string.Join(", ", policyKl.Shape)}] and [{string.Join(", ", refKl.Shape)}]");
        var p = policyKl.ToArray();
        var r = refKl.ToArray();
        double sum = 0;
        for (int i = 0; i < m; i++)
            sum += (double)p[i] - r[i];
        return Math.Max(0, sum / m);
    }
}
