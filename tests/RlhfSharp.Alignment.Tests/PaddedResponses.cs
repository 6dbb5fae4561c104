using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

/// <summary>
/// Hand-made logits for the padding cases of the preference-loss tests: V = 2, T = 5, position 0 the prompt.
/// A "live" position has logits (ln 3, 0), so p = (¾, ¼): token 0 has log-prob ln ¾, token 1 ln ¼. A
/// "garbage" position has logits (10⁴, −10⁴): token 1 there would cost −2·10⁴, so counting it by mistake
/// changes any result by thousands.
/// </summary>
internal static class PaddedResponses
{
    public const int T = 5;
    private static readonly float Ln3 = MathF.Log(3f);

    /// <summary>
    /// Short: ids (1, 0, 0, 1, 1), mask (0, 1, 1, 0, 0): two response tokens of id 0 (ln ¾ each; mean ln ¾,
    /// sum 2·ln ¾), then two padding tokens of id 1 predicted by garbage positions 2 and 3.
    /// </summary>
    public static (float[] Logits, int[] Ids, float[] Mask) Short() =>
        ([Ln3, 0, Ln3, 0, 1e4f, -1e4f, 1e4f, -1e4f, 1e4f, -1e4f], [1, 0, 0, 1, 1], [0, 1, 1, 0, 0]);

    /// <summary>
    /// Long: ids (1, 1, 1, 1, 1), mask (0, 1, 1, 1, 1): four response tokens of id 1 (ln ¼ each; mean ln ¼);
    /// position 4 predicts nothing and holds garbage.
    /// </summary>
    public static (float[] Logits, int[] Ids, float[] Mask) Long() =>
        ([Ln3, 0, Ln3, 0, Ln3, 0, Ln3, 0, 1e4f, -1e4f], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1]);

    /// <summary>Stacks rows into logits [B, T, 2], ids [B, T] and mask [B, T].</summary>
    public static (Tensor Logits, Tensor Ids, Tensor Mask) Batch(params (float[] Logits, int[] Ids, float[] Mask)[] rows) =>
        (Tensor.FromArray(rows.SelectMany(r => r.Logits).ToArray(), rows.Length, T, 2),
         Tensor.FromArray(rows.SelectMany(r => r.Ids).ToArray(), rows.Length, T),
         Tensor.FromArray(rows.SelectMany(r => r.Mask).ToArray(), rows.Length, T));
}
