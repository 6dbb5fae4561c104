using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Data;

/// <summary>Packs rows of different lengths into [B, T] tensors, padding on the right or the left.</summary>
internal static class Padding
{
    /// <summary>rows -> int32 [B, width] ids and float [B, width] attention mask (1 on real tokens).</summary>
    public static (Tensor Ids, Tensor AttentionMask) Pad(IReadOnlyList<int[]> rows, int width, int padId, bool left)
    {
        var ids = new int[rows.Count * width];
        var attention = new float[rows.Count * width];
        Array.Fill(ids, padId);
        for (int b = 0; b < rows.Count; b++)
        {
            int start = (b * width) + (left ? width - rows[b].Length : 0);
            rows[b].CopyTo(ids, start);
            attention.AsSpan(start, rows[b].Length).Fill(1f);
        }
        return (Tensor.FromArray(ids, rows.Count, width), Tensor.FromArray(attention, rows.Count, width));
    }

    /// <summary>Right-padded per-token flags -> float [B, width] (0 on padding).</summary>
    public static float[] Flags(IReadOnlyList<bool[]> rows, int width)
    {
        var data = new float[rows.Count * width];
        for (int b = 0; b < rows.Count; b++)
            for (int t = 0; t < rows[b].Length; t++)
                data[(b * width) + t] = rows[b][t] ? 1f : 0f;
        return data;
    }

    public static void RequireRows<T>(IReadOnlyList<T> examples, string paramName)
    {
        ArgumentNullException.ThrowIfNull(examples, paramName);
        if (examples.Count == 0) throw new ArgumentException("A batch needs at least one example.", paramName);
    }
}
