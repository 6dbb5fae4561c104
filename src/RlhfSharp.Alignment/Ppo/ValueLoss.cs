using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>The clipped value loss and its clip fraction (TRL's val/clipfrac).</summary>
/// <param name="Loss">Aggregated loss [], differentiable w.r.t. the values.</param>
/// <param name="ClipFraction">Fraction of real tokens where the clipped squared error was the larger one.</param>
public sealed record ValueLossResult(Tensor Loss, double ClipFraction);

/// <summary>
/// Clipped value loss (OpenAI baselines' PPO2, TRL): v_clipped = V_old + clip(V − V_old, −ε_v, ε_v);
/// loss_t = ½·max((V_t − R_t)², (v_clipped_t − R_t)²).
/// </summary>
public static class ValueLoss
{
    /// <summary>
    /// values [B, T]: critic V under the current weights (with grad); valuesOld [B, T]: V when the
    /// batch was collected (no grad); returns [B, T]: GAE returns R (no grad); mask [B, T]: 1 real
    /// response token, 0 padding (gets no gradient). clipRange ε_v.
    /// </summary>
    public static ValueLossResult Compute(
        Tensor values,
        Tensor valuesOld,
        Tensor returns,
        Tensor mask,
        double clipRange = 0.2,
        LossAggregation aggregation = LossAggregation.TokenMean)
    {
        const string Caller = "ValueLoss.Compute";
        ResponseMask.CheckShape(values, mask, Caller, "values");
        ResponseMask.CheckShape(valuesOld, mask, Caller, "valuesOld");
        ResponseMask.CheckShape(returns, mask, Caller, "returns");
        if (!(clipRange >= 0))
            throw new ArgumentOutOfRangeException(nameof(clipRange), clipRange, $"{Caller}: clipRange must be >= 0");

        var v = Masked.Zeroed(values, mask);
        var vOld = Masked.Zeroed(valuesOld.Detach(), mask);
        var r = Masked.Zeroed(returns.Detach(), mask);
        var vClipped = vOld.Add(v.Sub(vOld).Clamp((float)-clipRange, (float)clipRange));
        var e1 = v.Sub(r);
        var e2 = vClipped.Sub(r);
        var unclipped = e1.Mul(e1);
        var clipped = e2.Mul(e2);
        var loss = LossAggregator.Aggregate(unclipped.Maximum(clipped).Mul(0.5f), mask, aggregation);

        var m = mask.ToArray();
        var u = unclipped.ToArray();
        var c = clipped.ToArray();
        int count = 0, clippedCount = 0;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] == 0)
                continue;
            count++;
            if (c[i] > u[i])
                clippedCount++;
        }
        return new ValueLossResult(loss, (double)clippedCount / count);
    }
}
