using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// The row max with its index, one thread per row (grid-strided): used where rows are few (the
/// last position's logits); the other row kernels read each row with a group (<see cref="Grouped"/>).
/// </summary>
internal static class Rows
{
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

}
