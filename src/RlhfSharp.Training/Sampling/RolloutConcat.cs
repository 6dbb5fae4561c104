using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Sampling;

/// <summary>
/// Joins rollout batches sampled in separate generation rounds (dynamic sampling) into one batch.
/// Each round left-pads its prompts to its own longest prompt, so a row from a round with a shorter
/// prompt width gains more left padding (masked out: positions come from the attention mask, so the
/// row's log-probs are unchanged). Every round has the same response columns T.
/// </summary>
public static class RolloutConcat
{
    /// <summary>
    /// batches: rounds of [B_i, P_i + T] sequences, all with the same T; padId fills the new left
    /// padding -> one batch of [Σ B_i, max P_i + T], rows in the order given.
    /// </summary>
    public static RolloutBatch Concat(IReadOnlyList<RolloutBatch> batches, int padId)
    {
        if (batches.Count == 0)
            throw new ArgumentException("RolloutConcat.Concat: no batches to join", nameof(batches));
        if (batches.Count == 1)
            return batches[0];
        int t = batches[0].ResponseColumns;
        if (batches.Any(b => b.ResponseColumns != t))
            throw new ArgumentException($"RolloutConcat.Concat: every batch needs the same response columns; got {string.Join(", ", batches.Select(b => b.ResponseColumns))}", nameof(batches));
        int p = batches.Max(b => b.PromptLength), width = p + t, rows = batches.Sum(b => b.Count);
        var sequences = new int[rows * width];
        var attention = new float[rows * width];
        Array.Fill(sequences, padId);
        int row = 0;
        foreach (var b in batches)
        {
            int bw = b.PromptLength + t, shift = p - b.PromptLength;
            var seq = b.Sequences.ToIntArray();
            var mask = b.AttentionMask.ToArray();
            for (int r = 0; r < b.Count; r++, row++)
            {
                seq.AsSpan(r * bw, bw).CopyTo(sequences.AsSpan((row * width) + shift, bw));
                mask.AsSpan(r * bw, bw).CopyTo(attention.AsSpan((row * width) + shift, bw));
            }
        }
        return new RolloutBatch(
            [.. batches.SelectMany(b => b.Prompts)],
            Tensor.FromArray(sequences, rows, width),
            Tensor.FromArray(attention, rows, width),
            p,
            Tensor.FromArray([.. batches.SelectMany(b => b.ResponseIds.ToIntArray())], rows, t),
            Tensor.FromArray([.. batches.SelectMany(b => b.ResponseMask.ToArray())], rows, t),
            [.. batches.SelectMany(b => b.Lengths)],
            [.. batches.SelectMany(b => b.Ended)],
            [.. batches.SelectMany(b => b.Texts)]);
    }
}
