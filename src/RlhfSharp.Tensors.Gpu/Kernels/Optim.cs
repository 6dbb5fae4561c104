using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>The fused optimizer update and the pieces of global gradient-norm clipping.</summary>
internal static class Optim
{
    // AdamW (Loshchilov and Hutter 2019) in place, as the CPU engine's AdamWKernel:
    // p ← p·decay; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − (lr/bc1)·m / (√v/√bc2 + ε).
    public static void AdamW(Index1D t, int n, int threads, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float stepSize, float sqrtBc2, float eps)
    {
        for (int i = t; i < n; i += threads)
        {
            float gi = g[i];
            float mi = (beta1 * m[i]) + (oneMinusBeta1 * gi);
            float vi = (beta2 * v[i]) + (oneMinusBeta2 * gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] = (p[i] * decay) - (stepSize * mi / ((MathF.Sqrt(vi) / sqrtBc2) + eps));
        }
    }

    // acc[0] += Σ x² (per-thread partial sums, then one atomic add each).
    public static void SumOfSquares(Index1D t, int n, int threads, ArrayView<float> x, ArrayView<float> acc)
    {
        float s = 0f;
        for (int i = t; i < n; i += threads)
            s += x[i] * x[i];
        Atomic.Add(ref acc[0], s);
    }

    // y (any layout, written in place) ← x (contiguous, same shape)
    public static void CopyInto(Index1D t, int n, int threads, ArrayView<float> x, Layout ly, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[ly.At(i)] = x[i];
    }
}
