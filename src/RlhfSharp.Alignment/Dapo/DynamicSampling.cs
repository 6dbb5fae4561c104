using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dapo;

/// <summary>
/// DAPO's dynamic sampling filter (Yu et al. 2025, §3.2, the constraint 0 &lt; |{o_i correct}| &lt; G
/// of eq. 11): a group whose G rewards are all equal has group-normalised advantages of 0 and gives
/// no gradient, so it is dropped and the batch refilled with new prompts. Here: which groups to
/// keep, those whose rewards are not all equal.
/// </summary>
public static class DynamicSampling
{
    /// <summary>
    /// rewards [B·G] (a prompt's G responses contiguous), groupSize G ≥ 2 -> the indices p of the
    /// groups to keep (rewards[p·G .. p·G + G − 1] not all equal), ascending.
    /// </summary>
    public static int[] KeptGroups(Tensor rewards, int groupSize)
    {
        var values = GroupAdvantages.CheckScores(rewards, groupSize, "DynamicSampling.KeptGroups");
        var kept = new List<int>();
        for (int start = 0; start < values.Length; start += groupSize)
        {
            for (int i = start; i < start + groupSize; i++)
            {
                if (!double.IsFinite(values[i]))
                    throw new ArgumentException($"DynamicSampling.KeptGroups: reward {i} is {values[i]}; rewards must be finite numbers", nameof(rewards));
            }
            for (int i = start + 1; i < start + groupSize; i++)
            {
                if (values[i] != values[start])
                {
                    kept.Add(start / groupSize);
                    break;
                }
            }
        }
        return [.. kept];
    }

    /// <summary>The rows [B·G] of the kept groups, ascending: group p gives rows p·G .. p·G + G − 1.</summary>
    public static int[] Rows(IReadOnlyList<int> keptGroups, int groupSize)
    {
        if (groupSize < 1)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "DynamicSampling.Rows: the group size must be >= 1");
        var rows = new int[keptGroups.Count * groupSize];
        for (int k = 0; k < keptGroups.Count; k++)
        {
            if (keptGroups[k] < 0)
                throw new ArgumentOutOfRangeException(nameof(keptGroups), keptGroups[k], "DynamicSampling.Rows: a group index must be >= 0");
            for (int i = 0; i < groupSize; i++)
                rows[(k * groupSize) + i] = (keptGroups[k] * groupSize) + i;
        }
        return rows;
    }
}
