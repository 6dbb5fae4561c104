using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// The result of <see cref="KtoLoss.Compute(Tensor, Tensor, IReadOnlyList{bool}, double, double, double, double)"/>:
/// the differentiable loss plus the batch means TRL's <c>KTOTrainer</c> logs. Rewards are the implicit
/// r = β·(log π − log π_ref) of each response; "chosen" are the desirable examples, "rejected" the undesirable ones.
/// A mean over no example (a batch without desirable or without undesirable examples) is NaN and is
/// left out of <see cref="ToMetrics"/>.
/// </summary>
/// <param name="Loss">Mean weighted loss over the B examples, a scalar tensor [] connected to the policy log-probs.</param>
/// <param name="Kl"><c>kl</c>: the reference point z_ref, the clamped batch KL estimate (a constant).</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: mean reward of the desirable examples.</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>: mean reward of the undesirable examples.</param>
/// <param name="RewardsMargins"><c>rewards/margins</c>: rewards/chosen − rewards/rejected, a missing side read as 0 (as TRL).</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: mean policy log-prob of the desirable examples.</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>: mean policy log-prob of the undesirable examples.</param>
/// <param name="CountChosen"><c>count/chosen</c>: number of desirable examples.</param>
/// <param name="CountRejected"><c>count/rejected</c>: number of undesirable examples.</param>
public sealed record KtoOutput(
    Tensor Loss,
    double Kl,
    double RewardsChosen,
    double RewardsRejected,
    double RewardsMargins,
    double LogpsChosen,
    double LogpsRejected,
    int CountChosen,
    int CountRejected)
{
    /// <summary>The metrics under TRL's names, with <c>loss</c> as the loss value; means over no example are left out.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics()
    {
        var metrics = new Dictionary<string, double> { ["loss"] = Loss.Item(), ["kl"] = Kl };
        if (CountChosen > 0)
        {
            metrics["rewards/chosen"] = RewardsChosen;
            metrics["logps/chosen"] = LogpsChosen;
        }
        if (CountRejected > 0)
        {
            metrics["rewards/rejected"] = RewardsRejected;
            metrics["logps/rejected"] = LogpsRejected;
        }
        metrics["rewards/margins"] = RewardsMargins;
        metrics["count/chosen"] = CountChosen;
        metrics["count/rejected"] = CountRejected;
        return metrics;
    }
}
