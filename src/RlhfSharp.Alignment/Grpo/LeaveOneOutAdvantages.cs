using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Grpo;

/// <summary>
/// RLOO's leave-one-out baseline (Ahmadian et al. 2024, §3.3, after Kool et al. 2019):
/// for the G responses of one prompt, A_i = s_i − (1/(G−1))·Σ_{j≠i} s_j — each sample's baseline is
/// the mean score of the other samples of its prompt, so the baseline does not depend on s_i and
/// the estimator stays unbiased. Equivalently A_i = G/(G−1)·(s_i − mean(s)).
/// </summary>
public static class LeaveOneOutAdvantages
{
    /// <summary>scores [B·G] -> advantages [B·G], float64 without gradient, the G samples of each prompt contiguous.</summary>
    public static Tensor Compute(Tensor scores, int groupSize)
    {
        var values = GroupAdvantages.CheckScores(scores, groupSize, "LeaveOneOutAdvantages");
        var advantages = new double[values.Length];
        for (int start = 0; start < values.Length; start += groupSize)
        {
            double total = 0;
            for (int i = start; i < start + groupSize; i++)
                total += values[i];
            for (int i = start; i < start + groupSize; i++)
                advantages[i] = values[i] - ((total - values[i]) / (groupSize - 1));
        }
        return Tensor.FromArray(advantages, values.Length);
    }
}
