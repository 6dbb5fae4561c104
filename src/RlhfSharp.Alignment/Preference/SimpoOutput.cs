using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// The result of <see cref="SimpoLoss.Compute"/>: the differentiable loss plus the batch means TRL
/// logs for SimPO. The reward of a response is SimPO's r = β·(1/|y|)·log π(y|x) (Meng et al. 2024, eq. 4),
/// β times its length-normalised log-prob; there is no reference model.
/// </summary>
/// <param name="Loss">Mean loss over the pairs, a scalar tensor [] connected to the policy log-probs.</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: mean of β·mean-log-prob of the chosen responses.</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>: the same for the rejected responses.</param>
/// <param name="RewardsAccuracies"><c>rewards/accuracies</c>: fraction of pairs with r_c &gt; r_r (strict; ties count 0).</param>
/// <param name="RewardsMargins"><c>rewards/margins</c>: mean of r_c − r_r (before the target margin γ).</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: mean length-normalised log-prob of the chosen responses.</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>: the same for the rejected responses.</param>
public sealed record SimpoOutput(
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
