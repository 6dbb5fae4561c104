using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// Batched matrix product with any strides: c[b, i, j] = Σ_k a[b, i, k]·b[b, k, j], one thread per
/// output element (grid-strided). The batch offsets of each operand come from a <see cref="Layout"/>
/// over the batch dims (broadcast dims have stride 0), so transposed and broadcast operands are read
/// in place. The portable path, and the check of the cuBLAS one.
/// </summary>
internal static class Gemm
{
    public static void Run(
        Index1D t, int total, int threads, int m, int n, int k,
        Layout batchA, int aRow, int aCol, ArrayView<float> a,
        Layout batchB, int bRow, int bCol, ArrayView<float> b,
        ArrayView<float> c)
    {
        for (int e = t; e < total; e += threads)
        {
            int mn = m * n;
            int bi = e / mn;
            int rem = e - (bi * mn);
            int i = rem / n;
            int j = rem - (i * n);
            int ao = batchA.At(bi) + (i * aRow);
            int bo = batchB.At(bi) + (j * bCol);
            float s = 0f;
            for (int p = 0; p < k; p++)
                s += a[ao + (p * aCol)] * b[bo + (p * bRow)];
            c[e] = s;
        }
    }
}
