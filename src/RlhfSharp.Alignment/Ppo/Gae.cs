using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// Generalized advantage estimation (Schulman et al. 2015, eq. 16):
/// δ_t = r_t + γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}, returns R_t = A_t + V_t.
/// </summary>
public static class Gae
{
    /// <summary>
    /// Advantages and returns, computed backwards over each row's real tokens. The value after the
    /// last real token is 0 (the response ended: terminal state); padding gets advantage 0 and
    /// return 0, whatever rewards and values hold there.
    /// rewards [B, T] (per-token), values [B, T] (critic V_t), mask [B, T] (1 real token, 0 padding)
    /// -> (advantages [B, T], returns [B, T])
    /// </summary>
    public static (double[,] Advantages, double[,] Returns) Compute(double[,] rewards, double[,] values, double[,] mask, double gamma, double lambda)
    {
        ResponseMask.CheckShape(rewards, mask, "Gae.Compute", "rewards");
        ResponseMask.CheckShape(values, mask, "Gae.Compute", "values");
        if (!(gamma >= 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), $"Gae.Compute: gamma ({gamma}) and lambda ({lambda}) must lie in [0, 1]");
        var lengths = ResponseMask.Lengths(mask, "Gae.Compute");
        int rows = mask.GetLength(0), cols = mask.GetLength(1);
        var advantages = new double[rows, cols];
        var returns = new double[rows, cols];
        for (int b = 0; b < rows; b++)
        {
            double nextValue = 0, nextAdvantage = 0; // past the last real token: terminal
            for (int t = lengths[b] - 1; t >= 0; t--)
            {
                double delta = rewards[b, t] + (gamma * nextValue) - values[b, t];
                double advantage = delta + (gamma * lambda * nextAdvantage);
                advantages[b, t] = advantage;
                returns[b, t] = advantage + values[b, t];
                nextValue = values[b, t];
                nextAdvantage = advantage;
            }
        }
        return (advantages, returns);
    }

    /// <summary>The same on tensors (no gradient; computed in float64). rewards, values, mask [B, T] -> ([B, T], [B, T])</summary>
    public static (Tensor Advantages, Tensor Returns) Compute(Tensor rewards, Tensor values, Tensor mask, double gamma, double lambda)
    {
        ResponseMask.CheckShape(rewards, mask, "Gae.Compute", "rewards");
        ResponseMask.CheckShape(values, mask, "Gae.Compute", "values");
        var (a, r) = Compute(ResponseMask.ToGrid(rewards), ResponseMask.ToGrid(values), ResponseMask.ToGrid(mask), gamma, lambda);
        return (ResponseMask.FromGrid(a), ResponseMask.FromGrid(r));
    }
}
