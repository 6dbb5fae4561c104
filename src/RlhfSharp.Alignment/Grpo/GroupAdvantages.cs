using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Grpo;

/// <summary>
/// GRPO's group-normalised outcome advantages (Shao et al. 2024, DeepSeekMath §4.1.2):
/// for the G responses sampled for one prompt, A_i = (s_i − mean(s)) / (std(s) + eps), the same
/// value for every token of response i. With <c>scaleByStd: false</c> the division is skipped,
/// A_i = s_i − mean(s) (Dr. GRPO, Liu et al. 2025, §3.1, which shows the std term biases the update
/// towards questions that are too easy or too hard).
/// std is the unbiased sample standard deviation (divisor G − 1), as <c>torch.std</c> in TRL and verl.
/// A group whose scores are all equal gets advantages of exactly 0 (never NaN).
/// </summary>
public static class GroupAdvantages
{
    /// <summary>
    /// scores [B·G] -> advantages [B·G], float64 without gradient. The G responses of each prompt
    /// are contiguous: scores[p·G .. p·G + G − 1] belong to prompt p.
    /// </summary>
    public static Tensor Compute(Tensor scores, int groupSize, bool scaleByStd = true, double eps = 1e-6)
    {
        var values = CheckScores(scores, groupSize, "GroupAdvantages");
        var advantages = new double[values.Length];
        for (int start = 0; start < values.Length; start += groupSize)
        {
            var group = values.AsSpan(start, groupSize);
            if (AllEqual(group))
                continue; // zero variance: every advantage is 0
            double mean = 0;
            foreach (var s in group)
                mean += s;
            mean /= groupSize;
            double scale = 1;
            if (scaleByStd)
            {
                double sq = 0;
                foreach (var s in group)
                    sq += (s - mean) * (s - mean);
                scale = 1 / (Math.Sqrt(sq / (groupSize - 1)) + eps);
            }
            for (int i = 0; i < groupSize; i++)
                advantages[start + i] = (group[i] - mean) * scale;
        }
        return Tensor.FromArray(advantages, values.Length);
    }

    /// <summary>
    /// Broadcasts one advantage per response to its tokens: out[n, t] = advantages[n]·mask[n, t].
    /// advantages [N], responseMask [N, T] (1 on response tokens) -> [N, T], in the advantages' dtype
    /// </summary>
    public static Tensor ToTokens(Tensor advantages, Tensor responseMask)
    {
        if (advantages.Rank != 1 || responseMask.Rank != 2 || responseMask.Size(0) != advantages.Size(0))
            throw new ShapeMismatchException("GroupAdvantages.ToTokens", $"advantages must be [N] and the mask [N, T]; got [{string.Join(", ", advantages.Shape)}] and [{string.Join(", ", responseMask.Shape)}]");
        return Masked.Zeroed(advantages.Detach().Unsqueeze(1).Expand(responseMask.Shape), responseMask);
    }

    /// <summary>The scores as float64 values, after checking they are [B·G] in groups of G.</summary>
    internal static double[] CheckScores(Tensor scores, int groupSize, string op)
    {
        if (scores.Rank != 1)
            throw new ShapeMismatchException(op, $"scores must be [B·G], got [{string.Join(", ", scores.Shape)}]");
        CheckGroups(scores.Size(0), groupSize, op);
        return scores.ToDoubleArray();
    }

    private static void CheckGroups(int count, int groupSize, string op)
    {
        if (groupSize < 2)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"{op}: a group needs at least 2 samples per prompt");
        if (count % groupSize != 0)
            throw new ArgumentException($"{op}: {count} scores do not split into groups of {groupSize}; pass B·G scores with the G samples of each prompt contiguous", nameof(groupSize));
    }

    private static bool AllEqual(ReadOnlySpan<double> group)
    {
        foreach (var s in group)
        {
            if (s != group[0])
                return false;
        }
        return true;
    }
}
