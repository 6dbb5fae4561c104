using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// Advantage whitening over real tokens only (TRL's <c>masked_whiten</c>; the normalisation of
/// advantages used by PPO implementations since OpenAI baselines): (x − mean)/√(var + eps) with
/// mean and unbiased variance taken over the real tokens of the whole batch.
/// </summary>
public static class Whitening
{
    /// <summary>
    /// Whitened values; with shiftMean false the mean is added back (only the scale changes).
    /// Padding gets 0. values [B, T], mask [B, T] (1 real token, 0 padding) -> [B, T]
    /// </summary>
    public static double[,] Whiten(double[,] values, double[,] mask, bool shiftMean = true, double eps = 1e-8)
    {
        ResponseMask.CheckShape(values, mask, "Whitening.Whiten", "values");
        ResponseMask.Lengths(mask, "Whitening.Whiten");
        double mean = Masked.Mean(values, mask);
        double variance = Masked.Variance(values, mask, unbiased: true);
        if (double.IsNaN(variance))
            throw new ArgumentException("Whitening.Whiten: whitening needs at least two real tokens");
        double scale = 1 / Math.Sqrt(variance + eps);
        var result = new double[mask.GetLength(0), mask.GetLength(1)];
        for (int b = 0; b < mask.GetLength(0); b++)
            for (int t = 0; t < mask.GetLength(1); t++)
                if (mask[b, t] != 0)
                    result[b, t] = ((values[b, t] - mean) * scale) + (shiftMean ? 0 : mean);
        return result;
    }

    /// <summary>The same on tensors (no gradient; computed in float64). values, mask [B, T] -> [B, T]</summary>
    public static Tensor Whiten(Tensor values, Tensor mask, bool shiftMean = true, double eps = 1e-8)
    {
        ResponseMask.CheckShape(values, mask, "Whitening.Whiten", "values");
        return ResponseMask.FromGrid(Whiten(ResponseMask.ToGrid(values), ResponseMask.ToGrid(mask), shiftMean, eps));
    }
}
