using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Sampling;

/// <summary>
/// Joins rollout batches sampled in separate generation rounds (dynamic sampling) into one batch.
/// Each round left-pads its prompts to its own longest prompt and stops at its own longest
/// response, so a row gains left padding before its prompt and right padding after its response
/// (both masked out; positions come from the attention mask, so the row's log-probs are unchanged).
/// </summary>
public static class RolloutConcat
{
    /// <summary>
    /// batches: rounds of [B_i, P_i + T_i] sequences; padId fills the new padding -> one batch of
    /// [Σ B_i, max P_i + max T_i], rows in the order given.
    /// </summary>
    public static RolloutBatch Concat(IReadOnlyList<RolloutBatch> batches, int padId)
    {
        if (batches.Count == 0)
            throw new ArgumentException("RolloutConcat.Concat: no batches to join", nameof(batches));
        foreach (var b in batches)
        {
            if (b.Sequences.Size(1) != b.PromptLength + b.ResponseColumns || b.ResponseMask.Size(1) != b.ResponseColumns)
                throw new ArgumentException($"RolloutConcat.Concat: a batch's sequences [{b.Sequences.Size(0)}, {b.Sequences.Size(1)}] are not its prompt ({b.PromptLength}) plus response ({b.ResponseColumns}) columns", nameof(batches));
        }
        if (batches.Count == 1)
            return batches[0];
        int p = batches.Max(b => b.PromptLength), t = batches.Max(b => b.ResponseColumns), width = p + t, rows = batches.Sum(b => b.Count);
        var sequences = new int[rows * width];
        var attention = new float[rows * width];
        var responseIds = new int[rows * t];
        var responseMask = new float[rows * t];
        Array.Fill(sequences, padId);
        Array.Fill(responseIds, padId);
        int row = 0;
        foreach (var b in batches)
        {
            int bt = b.ResponseColumns, bw = b.PromptLength + bt, shift = p - b.PromptLength;
            var seq = b.Sequences.ToIntArray();
            var mask = b.AttentionMask.ToArray();
            var ids = b.ResponseIds.ToIntArray();
            var rmask = b.ResponseMask.ToArray();
            for (int r = 0; r < b.Count; r++, row++)
            {
                seq.AsSpan(r * bw, bw).CopyTo(sequences.AsSpan((row * width) + shift, bw));
                mask.AsSpan(r * bw, bw).CopyTo(attention.AsSpan((row * width) + shift, bw));
                ids.AsSpan(r * bt, bt).CopyTo(responseIds.AsSpan(row * t, bt));
                rmask.AsSpan(r * bt, bt).CopyTo(responseMask.AsSpan(row * t, bt));
            }
        }
        return new RolloutBatch(
            [.. batches.SelectMany(b => b.Prompts)],
            Tensor.FromArray(sequences, rows, width),
            Tensor.FromArray(attention, rows, width),
            p,
            Tensor.FromArray(responseIds, rows, t),
            Tensor.FromArray(responseMask, rows, t),
            [.. batches.SelectMany(b => b.Lengths)],
            [.. batches.SelectMany(b => b.Ended)],
            [.. batches.SelectMany(b => b.Texts)]);
    }
}
