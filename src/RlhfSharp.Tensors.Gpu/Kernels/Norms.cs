using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// The weight and bias gradients of LayerNorm (Ba et al. 2016) and RMSNorm (Zhang and Sennrich
/// 2019), one thread per column summing over the rows (adjacent threads read adjacent columns).
/// The forward and input gradient are <see cref="Grouped.NormForward"/> and <see cref="Grouped.NormInputGrad"/>.
/// </summary>
internal static class Norms
{
    // dw[j] = Σ_r g[r, j]·x̂[r, j], db[j] = Σ_r g[r, j]; one thread per column. -> dw [C], db [C]
    public static void ParamGrad(Index1D t, int c, int threads, int rows,
        ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> g, ArrayView<float> dw, ArrayView<float> db)
    {
        for (int j = t; j < c; j += threads)
        {
            float sw = 0f, sb = 0f;
            for (int r = 0; r < rows; r++)
            {
                float gv = g[(r * c) + j];
                sw += gv * (x[(r * c) + j] - mean[r]) * rstd[r];
                sb += gv;
            }
            dw[j] = sw;
            db[j] = sb;
        }
    }
}
