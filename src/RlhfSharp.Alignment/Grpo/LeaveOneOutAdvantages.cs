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
    /// <summary>
    /// scores [B·G] -> advantages [B·G], the G samples of each prompt contiguous.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<double> scores, int groupSize)
    {
        GroupAdvantages.CheckGroups(scores.Length, groupSize, "LeaveOneOutAdvantages");
        var advantages = new double[scores.Length];
        for (int start = 0; start < scores.Length; start += groupSize)
        {
            double total = 0;
            for (int i = start; i < start + groupSize; i++)
                total += scores[i];
            for (int i = start; i < start + groupSize; i++)
                advantages[i] = scores[i] - ((total - scores[i]) / (groupSize - 1));
        }
        return advantages;
    }

    /// <summary>The same on a tensor. scores [B·G] -> advantages [B·G] (no gradient).</summary>
    public static Tensor Compute(Tensor scores, int groupSize)
    {
        if (scores.Rank != 1)
            throw new ShapeMismatchException("LeaveOneOutAdvantages", $"scores must be [B·G], got [{string.Join(", ", scores.Shape)}]");
        var values = Array.ConvertAll(scores.ToArray(), v => (double)v);
        return Tensor.FromArray(Array.ConvertAll(Compute(values, groupSize), v => (float)v));
    }
}
