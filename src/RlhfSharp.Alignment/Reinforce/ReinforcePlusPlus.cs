using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment.Reinforce;

/// <summary>
/// REINFORCE++ (Hu 2025, arXiv:2501.03262): critic-free token-level advantages. Per-token reward
/// r_t = −β·KL_t on every real response token plus the outcome score on the last one (as PPO's,
/// <see cref="TokenRewards"/>); return G_t = Σ_{k≥t} γ^{k−t}·r_k; advantages are the returns
/// whitened over every real token of the whole batch (global mean and std, <see cref="Whitening"/>),
/// in place of a critic's baseline. REINFORCE++-baseline (OpenRLHF's <c>reinforce_baseline</c>)
/// first subtracts from each score the mean score of its prompt's group.
/// </summary>
public static class ReinforcePlusPlus
{
    /// <summary>
    /// scores [B]: one outcome score per response; kl [B, T]: the per-token KL estimate to the
    /// reference (read on real tokens only; null when β = 0); responseMask [B, T] (every row needs a
    /// real token to carry its score); β ≥ 0; γ in [0, 1]; comm: the ranks whose real tokens the
    /// whitening spans (default one process) -> (advantages [B, T], returns [B, T]), float64, 0 on padding.
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) Compute(Tensor scores, Tensor? kl, Tensor responseMask, double beta, double gamma = 1, Communicator? comm = null)
    {
        const string Caller = "ReinforcePlusPlus.Compute";
        ResponseMask.CheckRows(scores, responseMask, Caller, "scores");
        var rewards = PerTokenRewards(scores.ToDoubleArray(), kl, responseMask, beta, Caller);
        var returns = DiscountedReturns(rewards, responseMask, gamma);
        return (Whitening.Whiten(returns, responseMask, comm ?? SingleProcessCommunicator.Instance), returns);
    }

    /// <summary>
    /// REINFORCE++-baseline: as <see cref="Compute"/> with each score replaced by s_i − mean(s of its
    /// group) first. scores [B·G] (a prompt's G responses contiguous), groupSize G ≥ 2, kl [B·G, T] or
    /// null, responseMask [B·G, T] -> (advantages, returns) [B·G, T], float64.
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) ComputeWithGroupBaseline(Tensor scores, int groupSize, Tensor? kl, Tensor responseMask, double beta, double gamma = 1, Communicator? comm = null)
    {
        ResponseMask.CheckRows(scores, responseMask, "ReinforcePlusPlus.ComputeWithGroupBaseline", "scores");
        var centred = GroupAdvantages.Compute(scores, groupSize, scaleByStd: false); // s_i − mean(group), exactly 0 for an all-equal group
        return Compute(centred, kl, responseMask, beta, gamma, comm);
    }

    /// <summary>
    /// r_t = −β·KL_t on real tokens, plus scores[b] on row b's last real token; padding 0.
    /// scores [B], kl [B, T] (null: β must be 0), responseMask [B, T] -> [B, T] float64
    /// </summary>
    public static Tensor PerTokenRewards(double[] scores, Tensor? kl, Tensor responseMask, double beta, string caller = "ReinforcePlusPlus.PerTokenRewards")
    {
        if (!(beta >= 0))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{caller}: the KL coefficient β must be >= 0");
        if (kl is null && beta != 0)
            throw new ArgumentException($"{caller}: β = {beta} needs the per-token KL [B, T]; pass it, or β = 0 for no KL penalty", nameof(kl));
        if (kl is not null)
            ResponseMask.CheckShape(kl, responseMask, caller, "kl");
        var lengths = ResponseMask.Lengths(responseMask, caller);
        if (scores.Length != lengths.Length)
            throw new ArgumentException($"{caller}: {scores.Length} scores for {lengths.Length} responses");
        int rows = responseMask.Size(0), cols = responseMask.Size(1);
        var k = kl?.ToDoubleArray();
        var rewards = new double[rows * cols];
        for (int b = 0; b < rows; b++)
        {
            if (lengths[b] == 0)
                throw new ArgumentException($"{caller}: response {b} has no real tokens, so there is no last token to carry its score");
            for (int t = 0; t < lengths[b]; t++)
                rewards[(b * cols) + t] = k is null ? 0 : -beta * k[(b * cols) + t];
            rewards[(b * cols) + lengths[b] - 1] += scores[b];
        }
        return Tensor.FromArray(rewards, rows, cols);
    }

    /// <summary>
    /// Discounted return to go G_t = r_t + γ·G_{t+1} over each row's real tokens (0 past the last);
    /// padding 0 whatever it holds. rewards [B, T], responseMask [B, T] -> [B, T] float64
    /// </summary>
    public static Tensor DiscountedReturns(Tensor rewards, Tensor responseMask, double gamma)
    {
        const string Caller = "ReinforcePlusPlus.DiscountedReturns";
        ResponseMask.CheckShape(rewards, responseMask, Caller, "rewards");
        if (!(gamma >= 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{Caller}: the discount γ must lie in [0, 1]");
        var lengths = ResponseMask.Lengths(responseMask, Caller);
        int rows = responseMask.Size(0), cols = responseMask.Size(1);
        var r = rewards.ToDoubleArray();
        var returns = new double[rows * cols];
        for (int b = 0; b < rows; b++)
        {
            double next = 0;
            for (int t = lengths[b] - 1; t >= 0; t--)
            {
                int i = (b * cols) + t;
                next = r[i] + (gamma * next);
                returns[i] = next;
            }
        }
        return Tensor.FromArray(returns, rows, cols);
    }
}
