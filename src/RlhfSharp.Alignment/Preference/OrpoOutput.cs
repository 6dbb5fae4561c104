using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// The result of <see cref="OrpoLoss.Compute"/>: the differentiable loss plus the batch means TRL's
/// <c>ORPOTrainer</c> logs. Rewards are TRL's β·m with m the length-normalised log-prob of a response.
/// </summary>
/// <param name="Loss">L_NLL − λ·mean log σ(log odds ratio), a scalar tensor [] connected to the policy log-probs.</param>
/// <param name="NllLoss"><c>nll_loss</c>: the supervised term L_NLL of the chosen responses.</param>
/// <param name="LogOddsRatio"><c>log_odds_ratio</c>: TRL's name for the mean of log σ(log odds(y_w) − log odds(y_l)).</param>
/// <param name="LogOddsChosen"><c>log_odds_chosen</c>: TRL's name for the mean of log odds(y_w) − log odds(y_l).</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: mean of β·m_c.</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>: mean of β·m_r.</param>
/// <param name="RewardsAccuracies"><c>rewards/accuracies</c>: fraction of pairs with m_c &gt; m_r (strict; ties count 0).</param>
/// <param name="RewardsMargins"><c>rewards/margins</c>: mean of β·(m_c − m_r).</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: mean length-normalised log-prob of the chosen responses.</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>: the same for the rejected responses.</param>
public sealed record OrpoOutput(
    Tensor Loss,
    double NllLoss,
    double LogOddsRatio,
    double LogOddsChosen,
    double RewardsChosen,
    double RewardsRejected,
    double RewardsAccuracies,
    double RewardsMargins,
    double LogpsChosen,
    double LogpsRejected)
{
    /// <summary>The metrics under TRL's names, with <c>loss</c> as the loss value.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        ["loss"] = Loss.Item(),
        ["nll_loss"] = NllLoss,
        ["log_odds_ratio"] = LogOddsRatio,
        ["log_odds_chosen"] = LogOddsChosen,
        ["rewards/chosen"] = RewardsChosen,
        ["rewards/rejected"] = RewardsRejected,
        ["rewards/accuracies"] = RewardsAccuracies,
        ["rewards/margins"] = RewardsMargins,
        ["logps/chosen"] = LogpsChosen,
        ["logps/rejected"] = LogpsRejected,
    };
}
