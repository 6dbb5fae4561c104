namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// The batch means TRL logs for a pairwise loss whose reward is r = β·(a log-prob): rewards/chosen,
/// rewards/rejected, rewards/accuracies (strict r_c &gt; r_r; ties count 0, as in TRL), rewards/margins,
/// logps/chosen and logps/rejected. Computed in double from the float32 log-probs.
/// </summary>
internal readonly record struct PairRewardMetrics(
    double RewardsChosen,
    double RewardsRejected,
    double RewardsAccuracies,
    double RewardsMargins,
    double LogpsChosen,
    double LogpsRejected)
{
    /// <summary>chosen [B], rejected [B] (log-probs as plain numbers), β -> the six means.</summary>
    public static PairRewardMetrics Of(float[] chosen, float[] rejected, double beta)
    {
        double sumC = 0, sumR = 0, wins = 0, sumPc = 0, sumPr = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double rewardC = beta * chosen[i];
            double rewardR = beta * rejected[i];
            sumC += rewardC;
            sumR += rewardR;
            wins += rewardC > rewardR ? 1 : 0;
            sumPc += chosen[i];
            sumPr += rejected[i];
        }
        double n = Math.Max(chosen.Length, 1);
        return new PairRewardMetrics(sumC / n, sumR / n, wins / n, (sumC - sumR) / n, sumPc / n, sumPr / n);
    }

    /// <summary>The pair metrics under TRL's names, after <c>loss</c>, in the order every pairwise loss logs them.</summary>
    public static Dictionary<string, double> Named(double loss, double rewardsChosen, double rewardsRejected, double rewardsAccuracies,
        double rewardsMargins, double logpsChosen, double logpsRejected) => new()
        {
            ["loss"] = loss,
            ["rewards/chosen"] = rewardsChosen,
            ["rewards/rejected"] = rewardsRejected,
            ["rewards/accuracies"] = rewardsAccuracies,
            ["rewards/margins"] = rewardsMargins,
            ["logps/chosen"] = logpsChosen,
            ["logps/rejected"] = logpsRejected,
        };
}
