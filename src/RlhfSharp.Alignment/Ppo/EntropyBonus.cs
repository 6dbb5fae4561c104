using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// The entropy bonus of PPO's combined objective (Schulman et al. 2017, eq. 9: + c₂·S[π]), as a
/// term to add to the loss: −c₂ · aggregate(H_t).
/// </summary>
public static class EntropyBonus
{
    /// <summary>
    /// entropy [B, T]: per-token entropy of the policy's next-token distribution (e.g. F.Entropy of
    /// the logits), differentiable; mask [B, T]: 1 real response token, 0 padding; coef c₂ ≥ 0. -> []
    /// </summary>
    public static Tensor Loss(Tensor entropy, Tensor mask, double coef, LossAggregation aggregation = LossAggregation.TokenMean)
    {
        if (!(coef >= 0))
            throw new ArgumentOutOfRangeException(nameof(coef), coef, "EntropyBonus.Loss: coef must be >= 0");
        return LossAggregator.Aggregate(entropy, mask, aggregation).Mul((float)-coef);
    }
}
