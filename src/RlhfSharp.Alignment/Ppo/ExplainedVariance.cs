using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// How much of the returns' variance the critic explains (OpenAI baselines' explained_variance):
/// 1 − Var[R − V]/Var[R] over real tokens. 1: perfect; 0: no better than a constant; &lt; 0: worse.
/// </summary>
public static class ExplainedVariance
{
    /// <summary>values [B, T] (critic V), returns [B, T] (R), responseMask [B, T] -> scalar in float64; NaN when Var[R] = 0.</summary>
    public static double Compute(Tensor values, Tensor returns, Tensor responseMask)
    {
        ResponseMask.CheckShape(values, responseMask, "ExplainedVariance.Compute", "values");
        ResponseMask.CheckShape(returns, responseMask, "ExplainedVariance.Compute", "returns");
        ResponseMask.Lengths(responseMask, "ExplainedVariance.Compute");
        var r = returns.Double();
        var residual = Masked.Zeroed(r.Sub(values.Double()), responseMask);
        // Both variances divide by n, so the ratio does not depend on the choice.
        double varReturns = Masked.Variance(r, responseMask, unbiased: false).ItemDouble();
        return varReturns == 0 || double.IsNaN(varReturns) ? double.NaN : 1 - (Masked.Variance(residual, responseMask, unbiased: false).ItemDouble() / varReturns);
    }

    /// <summary>As <see cref="Compute(Tensor, Tensor, Tensor)"/> over the real tokens of every rank of <paramref name="comm"/>.</summary>
    public static double Compute(Tensor values, Tensor returns, Tensor responseMask, Communicator comm)
    {
        if (comm.Size == 1)
            return Compute(values, returns, responseMask);
        ResponseMask.CheckShape(values, responseMask, "ExplainedVariance.Compute", "values");
        ResponseMask.CheckShape(returns, responseMask, "ExplainedVariance.Compute", "returns");
        var r = returns.Double();
        double varReturns = GlobalMasked.Variance(r, responseMask, comm, unbiased: false);
        double varResidual = GlobalMasked.Variance(r.Sub(values.Double()), responseMask, comm, unbiased: false);
        return varReturns == 0 || double.IsNaN(varReturns) ? double.NaN : 1 - (varResidual / varReturns);
    }
}
