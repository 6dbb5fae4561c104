using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dpo;

/// <summary>
/// The DPO family on sequence log-probs (TRL <c>DPOTrainer.dpo_loss</c>). With
/// u = (π_c − ref_c) − (π_r − ref_r), the difference of the policy/reference log-ratios of the
/// chosen and rejected responses, and h = β·u:
/// <list type="bullet">
/// <item>sigmoid (DPO, Rafailov et al. 2023, eq. 7): −log σ(h) = softplus(−h);</item>
/// <item>sigmoid with label smoothing ε (conservative DPO, Mitchell 2023; TRL <c>label_smoothing</c>):
/// −(1−ε)·log σ(h) − ε·log σ(−h) = (1−ε)·softplus(−h) + ε·softplus(h);</item>
/// <item>IPO (Azar et al. 2023, eq. 17, with τ = β): (u − 1/(2β))² = (h/β − 1/(2β))². TRL's convention,
/// followed here: the square is taken of the unscaled log-ratio difference u, not of h, and TRL feeds
/// IPO length-normalised log-probs (the mean over response tokens, <see cref="SequenceLogProbs.Mean"/>)
/// where the sigmoid loss gets sums (<see cref="SequenceLogProbs.Sum"/>).</item>
/// </list>
/// The loss is the mean over the B pairs.
/// </summary>
public static class DpoLoss
{
    /// <summary>
    /// DPO-family loss and TRL's metrics.
    /// policyChosen [B], policyRejected [B], refChosen [B], refRejected [B] -> <see cref="DpoOutput"/> (Loss [])
    /// Each entry is a whole-sequence log-prob log π(y|x) of one response. Gradients flow into the
    /// policy tensors; the reference tensors are treated as constants.
    /// </summary>
    public static DpoOutput Compute(
        Tensor policyChosen,
        Tensor policyRejected,
        Tensor refChosen,
        Tensor refRejected,
        double beta = 0.1,
        DpoLossType lossType = DpoLossType.Sigmoid,
        double labelSmoothing = 0)
    {
        CheckArguments(beta, lossType, labelSmoothing);
        int b = policyChosen.Numel;
        foreach (var t in new[] { policyChosen, policyRejected, refChosen, refRejected })
        {
            if (t.Rank != 1 || t.Numel != b)
                throw new ShapeMismatchException("DpoLoss", $"policy and reference log-probs must all be [B] with the same B; got [{string.Join(", ", t.Shape)}] next to B = {b}");
        }

        // log-ratios log π/π_ref of each response, [B]
        var chosenLogRatio = policyChosen.Sub(refChosen.Detach());
        var rejectedLogRatio = policyRejected.Sub(refRejected.Detach());
        var u = chosenLogRatio.Sub(rejectedLogRatio);

        Tensor perPair = lossType switch
        {
            // −log σ(h) = softplus(−h) and −log σ(−h) = softplus(h), stable for large |h|.
            DpoLossType.Sigmoid when labelSmoothing == 0 => u.Mul(-beta).Softplus(),
            DpoLossType.Sigmoid => u.Mul(-beta).Softplus().Mul(1 - labelSmoothing).Add(u.Mul(beta).Softplus().Mul(labelSmoothing)),
            // IPO, Azar et al. 2023, eq. 17: (u − 1/(2β))²
            _ => u.Sub(1 / (2 * beta)).Pow(2f),
        };

        var pc = policyChosen.ToArray();
        var pr = policyRejected.ToArray();
        var rc = refChosen.ToArray();
        var rr = refRejected.ToArray();
        double sumC = 0, sumR = 0, wins = 0, sumPc = 0, sumPr = 0;
        for (int i = 0; i < b; i++)
        {
            double rewardC = beta * ((double)pc[i] - rc[i]);
            double rewardR = beta * ((double)pr[i] - rr[i]);
            sumC += rewardC;
            sumR += rewardR;
            wins += rewardC > rewardR ? 1 : 0;
            sumPc += pc[i];
            sumPr += pr[i];
        }
        double n = Math.Max(b, 1);
        return new DpoOutput(perPair.Mean(), sumC / n, sumR / n, wins / n, (sumC - sumR) / n, sumPc / n, sumPr / n);
    }

    private static void CheckArguments(double beta, DpoLossType lossType, double labelSmoothing)
    {
        if (!(beta > 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be positive (TRL's default is 0.1)");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must lie in [0, 0.5]");
        if (lossType == DpoLossType.Ipo && labelSmoothing != 0)
            throw new ArgumentException("label smoothing applies to the sigmoid loss only; IPO takes none", nameof(labelSmoothing));
        if (lossType is not (DpoLossType.Sigmoid or DpoLossType.Ipo))
            throw new ArgumentOutOfRangeException(nameof(lossType), lossType, "unknown DPO loss type");
    }
}
