using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// LayerNorm (Ba et al. 2016) and RMSNorm (Zhang and Sennrich 2019) over the last dim of a
/// contiguous [rows, C] matrix, one thread per row, with the same saved statistics as the CPU
/// engine (mean and rstd per row; RMSNorm's mean is 0).
/// </summary>
internal static class Norms
{
    // x [rows, C], w [C]?, b [C]? -> y [rows, C], mean [rows], rstd [rows]; flags: 1 = has w, 2 = has b, 4 = rms
    public static void Forward(Index1D t, int rows, int threads, int c, int flags, float eps,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * c;
            float mu = 0f;
            if ((flags & 4) == 0)
            {
                for (int j = 0; j < c; j++)
                    mu += x[o + j];
                mu /= c;
            }
            float var = 0f;
            for (int j = 0; j < c; j++)
            {
                float d = x[o + j] - mu;
                var += d * d;
            }
            float rs = 1f / MathF.Sqrt((var / c) + eps);
            mean[r] = mu;
            rstd[r] = rs;
            for (int j = 0; j < c; j++)
            {
                float v = (x[o + j] - mu) * rs;
                if ((flags & 1) != 0)
                    v *= w[j];
                if ((flags & 2) != 0)
                    v += b[j];
                y[o + j] = v;
            }
        }
    }

    // dx = rstd·(g⊙w − mean(g⊙w) − x̂·mean(g⊙w⊙x̂)); RMSNorm drops the first mean. -> dx [rows, C]
    public static void InputGrad(Index1D t, int rows, int threads, int c, int flags,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * c;
            float mu = mean[r], rs = rstd[r];
            float sumG = 0f, sumGx = 0f;
            for (int j = 0; j < c; j++)
            {
                float gw = (flags & 1) != 0 ? g[o + j] * w[j] : g[o + j];
                sumG += gw;
                sumGx += gw * (x[o + j] - mu) * rs;
            }
            float meanG = (flags & 4) != 0 ? 0f : sumG / c;
            float meanGx = sumGx / c;
            for (int j = 0; j < c; j++)
            {
                float gw = (flags & 1) != 0 ? g[o + j] * w[j] : g[o + j];
                float xh = (x[o + j] - mu) * rs;
                dx[o + j] = rs * (gw - meanG - (xh * meanGx));
            }
        }
    }

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
