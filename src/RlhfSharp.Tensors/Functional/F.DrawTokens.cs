namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// One token per row of logits [rows, V] on the logits' device (a device engine only; the host
    /// sampler has its own loop with top-k and top-p): the arg-max when <paramref name="greedy"/>,
    /// else drawn from softmax(logits / T) by the row's uniform draw in [0, 1) (the host sampler's
    /// rule: the first token whose running weight passes u·Σ). Only the tokens and their log-probs
    /// under softmax(logits / T) come back (two transfers with the uniforms, not the logits).
    /// </summary>
    public static (int[] Tokens, float[] LogProbs) DrawTokens(Tensor logits, float temperature, bool greedy, double[]? uniforms)
    {
        if (!logits.IsOnDevice)
            throw new DeviceMismatchException("DrawTokens: draws on a device; on the cpu the sampler draws from the logits itself");
        if (logits.Rank != 2)
            throw new ShapeMismatchException("DrawTokens", $"logits must be [rows, V], got {ShapeUtil.Format(logits.ShapeArr)}");
        int rows = logits.ShapeArr[0], v = logits.ShapeArr[1];
        if (!greedy && (uniforms is null || uniforms.Length != rows))
            throw new ArgumentException($"DrawTokens: sampling needs one uniform per row ({rows}), got {uniforms?.Length ?? 0}");
        Tensor? bits = null;
        if (!greedy)
        {
            var halves = new int[rows * 2];
            for (int r = 0; r < rows; r++)
            {
                long b = BitConverter.DoubleToInt64Bits(uniforms![r]);
                halves[2 * r] = (int)(b & 0xFFFFFFFF);
                halves[(2 * r) + 1] = (int)(b >> 32);
            }
            bits = Tensor.FromArray(halves).To(logits.Device);
        }
        var result = logits.Backend.DrawTokens(logits.Float().Detach().Contiguous(), rows, v, 1f / temperature, greedy, bits).ToArray();
        var tokens = new int[rows];
        var logProbs = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            tokens[r] = (int)result[2 * r];
            logProbs[r] = result[(2 * r) + 1];
        }
        return (tokens, logProbs);
    }
}
