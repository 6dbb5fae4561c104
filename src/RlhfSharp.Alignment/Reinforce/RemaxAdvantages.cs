using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Reinforce;

/// <summary>
/// ReMax (Li et al. 2023, arXiv:2310.10505, Algorithm 1): REINFORCE with the greedy response's
/// score as the baseline, A_i = s_i − s_greedy(prompt of i), the same value for every token of
/// response i. No normalisation.
/// </summary>
public static class RemaxAdvantages
{
    /// <summary>
    /// scores [B]: the sampled responses' scores; greedyScores [B]: the score of the greedy
    /// (argmax-decoded) response to the same prompt as row b (repeated for a prompt's rows)
    /// -> advantages [B], float64 without gradient.
    /// </summary>
    public static Tensor Compute(Tensor scores, Tensor greedyScores)
    {
        if (scores.Rank != 1 || greedyScores.Rank != 1 || scores.Size(0) != greedyScores.Size(0))
            throw new ShapeMismatchException("RemaxAdvantages.Compute", $"scores and greedyScores must both be [B]; got {ResponseMask.ShapeText(scores)} and {ResponseMask.ShapeText(greedyScores)}");
        var (s, g) = (scores.ToDoubleArray(), greedyScores.ToDoubleArray());
        var advantages = new double[s.Length];
        for (int i = 0; i < s.Length; i++)
            advantages[i] = s[i] - g[i];
        return Tensor.FromArray(advantages, s.Length);
    }
}
