using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>The sizes and options of a rotary-embedding launch, passed by value.</summary>
internal struct RopeShape
{
    public int Heads, Length, HeadDim, RotaryDim, PerBatch, MaxPositions;
    public float Sign;
}

/// <summary>Rotary embedding (the masked softmax of attention scores is <see cref="Grouped.MaskedSoftmax"/>).</summary>
internal static class Attention
{
    // x [B, H, T, D] (any layout), table rows from positions [T] or [B, T], cos/sin [P, rd/2];
    // sign −1 rotates back (the backward); a position outside [0, maxPositions) gives NaN. -> y [B, H, T, D]
    public static void Rope(Index1D t, int total, int threads, Layout lx, ArrayView<float> x,
        RopeShape shape, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin, ArrayView<float> y)
    {
        int hn = shape.Heads, tn = shape.Length, d = shape.HeadDim, rd = shape.RotaryDim, maxPositions = shape.MaxPositions;
        int perBatch = shape.PerBatch;
        float sign = shape.Sign;
        int half = rd / 2;
        for (int e = t; e < total; e += threads)
        {
            int j = e % d;
            int row = e / d;                 // (b·H + h)·T + t
            int tt = row % tn;
            int b = row / (hn * tn);
            if (j >= rd)
            {
                y[e] = x[lx.At(e)];
                continue;
            }
            int p = positions[perBatch != 0 ? (b * tn) + tt : tt];
            if (p < 0 || p >= maxPositions)
            {
                y[e] = float.NaN;
                continue;
            }
            int i = j < half ? j : j - half;
            float c = cos[(p * half) + i], s = sign * sin[(p * half) + i];
            int baseIdx = e - j;
            float x1 = x[lx.At(baseIdx + i)], x2 = x[lx.At(baseIdx + i + half)];
            y[e] = j < half ? (x1 * c) - (x2 * s) : (x2 * c) + (x1 * s);
        }
    }

}
