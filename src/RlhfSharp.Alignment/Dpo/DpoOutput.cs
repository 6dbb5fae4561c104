using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dpo;

/// <summary>
/// The result of <see cref="DpoLoss.Compute"/>: the differentiable loss plus the batch means TRL's
/// <c>DPOTrainer</c> logs. Implicit rewards are r = β·(log π − log π_ref) of each response
/// (Rafailov et al. 2023, §5).
/// </summary>
/// <param name="Loss">Mean loss over the pairs, a scalar tensor [] connected to the policy log-probs.</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: mean of β·(π_c − ref_c).</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>: mean of β·(π_r − ref_r).</param>
/// <param name="RewardsAccuracies"><c>rewards/accuracies</c>: fraction of pairs with r_c &gt; r_r (strict; ties count 0, as in TRL).</param>
/// <param name="RewardsMargins"><c>rewards/margins</c>: mean of r_c − r_r.</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: mean policy log-prob of the chosen responses.</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>: mean policy log-prob of the rejected responses.</param>
public sealed record DpoOutput(
    Tensor Loss,
    double RewardsChosen,
    double RewardsRejected,
    double RewardsAccuracies,
    double RewardsMargins,
    double LogpsChosen,
    double LogpsRejected)
{
    /// <summary>The metrics under TRL's names, with <c>loss</c> as the loss value.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() =>
        PairRewardMetrics.Named(Loss.Item(), RewardsChosen, RewardsRejected, RewardsAccuracies, RewardsMargins, LogpsChosen, LogpsRejected);
}
