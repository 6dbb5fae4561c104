using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// Kernels over the rows of a contiguous [rows, cols] matrix, one thread per row (grid-strided):
/// sums, max with index, softmax and log-softmax with their backward passes.
/// </summary>
internal static class Rows
{
    // x [rows, cols] -> y [rows]
    public static void Sum(Index1D t, int rows, int threads, int cols, ArrayView<float> x, ArrayView<float> y)
    {
        for (int r = t; r < rows; r += threads)
        {
            float s = 0f;
            int o = r * cols;
            for (int c = 0; c < cols; c++)
                s += x[o + c];
            y[r] = s;
        }
    }

    // x [rows, cols] -> values [rows], indices [rows] (the first max; NaN wins, as on the CPU)
    public static void Max(Index1D t, int rows, int threads, int cols, ArrayView<float> x, ArrayView<float> values, ArrayView<int> indices)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * cols;
            float best = x[o];
            int at = 0;
            for (int c = 1; c < cols && !float.IsNaN(best); c++)
            {
                float v = x[o + c];
                if (v > best || float.IsNaN(v))
                {
                    best = v;
                    at = c;
                }
            }
            values[r] = best;
            indices[r] = at;
        }
    }

    // x [rows, cols] -> y [rows, cols]: softmax, or log-softmax when log != 0
    public static void Softmax(Index1D t, int rows, int threads, int cols, int log, ArrayView<float> x, ArrayView<float> y)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * cols;
            float m = float.NegativeInfinity;
            for (int c = 0; c < cols; c++)
                m = MathF.Max(m, x[o + c]);
            float s = 0f;
            for (int c = 0; c < cols; c++)
                s += MathF.Exp(x[o + c] - m);
            if (log != 0)
            {
                float lse = m + MathF.Log(s);
                for (int c = 0; c < cols; c++)
                    y[o + c] = x[o + c] - lse;
            }
            else
            {
                float inv = 1f / s;
                for (int c = 0; c < cols; c++)
                    y[o + c] = MathF.Exp(x[o + c] - m) * inv;
            }
        }
    }

    // softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − exp(y)·Σg
    public static void SoftmaxGrad(Index1D t, int rows, int threads, int cols, int log, ArrayView<float> y, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * cols;
            float s = 0f;
            for (int c = 0; c < cols; c++)
                s += log != 0 ? g[o + c] : g[o + c] * y[o + c];
            for (int c = 0; c < cols; c++)
                dx[o + c] = log != 0 ? g[o + c] - (MathF.Exp(y[o + c]) * s) : y[o + c] * (g[o + c] - s);
        }
    }
}
