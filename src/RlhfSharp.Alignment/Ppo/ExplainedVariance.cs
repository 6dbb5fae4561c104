using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// How much of the returns' variance the critic explains (OpenAI baselines' explained_variance):
/// 1 − Var[R − V]/Var[R] over real tokens. 1: perfect; 0: no better than a constant; &lt; 0: worse.
/// </summary>
public static class ExplainedVariance
{
    /// <summary>values [B, T] (critic V), returns [B, T] (R), mask [B, T] (1 real token, 0 padding) -> scalar; NaN when Var[R] = 0.</summary>
    public static double Compute(double[,] values, double[,] returns, double[,] mask)
    {
        ResponseMask.CheckShape(values, mask, "ExplainedVariance.Compute", "values");
        ResponseMask.CheckShape(returns, mask, "ExplainedVariance.Compute", "returns");
        ResponseMask.Lengths(mask, "ExplainedVariance.Compute");
        var residual = new double[mask.GetLength(0), mask.GetLength(1)];
        for (int b = 0; b < mask.GetLength(0); b++)
            for (int t = 0; t < mask.GetLength(1); t++)
                residual[b, t] = mask[b, t] == 0 ? 0 : returns[b, t] - values[b, t];
        // Both variances divide by n, so the ratio does not depend on the choice.
        double varReturns = Masked.Variance(returns, mask, unbiased: false);
        return varReturns == 0 || double.IsNaN(varReturns) ? double.NaN : 1 - (Masked.Variance(residual, mask, unbiased: false) / varReturns);
    }

    /// <summary>The same on tensors. values, returns, mask [B, T] -> scalar</summary>
    public static double Compute(Tensor values, Tensor returns, Tensor mask) =>
        Compute(ResponseMask.ToGrid(values), ResponseMask.ToGrid(returns), ResponseMask.ToGrid(mask));
}
