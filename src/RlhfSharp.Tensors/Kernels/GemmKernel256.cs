// Fully unrolled: one FMA per accumulator per k step, every accumulator held in a register.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>AVX2/FMA micro-kernel: 6×16 tile, 12 ymm accumulators (fits the 16 ymm registers of AVX2).</summary>
internal readonly struct GemmKernel256 : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;

    // packed A [kc,6] · packed B [kc,16] -> C tile [6,16] (row stride ldc)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c0_0 = default; Vector256<float> c0_1 = default;
        Vector256<float> c1_0 = default; Vector256<float> c1_1 = default;
        Vector256<float> c2_0 = default; Vector256<float> c2_1 = default;
        Vector256<float> c3_0 = default; Vector256<float> c3_1 = default;
        Vector256<float> c4_0 = default; Vector256<float> c4_1 = default;
        Vector256<float> c5_0 = default; Vector256<float> c5_1 = default;
        if (Sse.IsSupported)
        {
            // Fetch the C tile (6 rows of 64 bytes, possibly straddling a line) while the k loop runs.
            for (int i = 0; i < 6; i++)
            {
                float* row = c + i * ldc;
                Sse.Prefetch0(row);
                Sse.Prefetch0(row + 8);
                Sse.Prefetch0(row + 15);
            }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c0_0 = Vector256.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0, b1, c0_1);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c1_0 = Vector256.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1, b1, c1_1);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c2_0 = Vector256.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2, b1, c2_1);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c3_0 = Vector256.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3, b1, c3_1);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c4_0 = Vector256.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4, b1, c4_1);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c5_0 = Vector256.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5, b1, c5_1);
            a += 6;
            b += 16;
        }
        Vector256<float> va = Vector256.Create(alpha);
        if (beta == 0)
        {
            Vector256.Store(c0_0 * va, c + 0 * ldc + 0);
            Vector256.Store(c0_1 * va, c + 0 * ldc + 8);
            Vector256.Store(c1_0 * va, c + 1 * ldc + 0);
            Vector256.Store(c1_1 * va, c + 1 * ldc + 8);
            Vector256.Store(c2_0 * va, c + 2 * ldc + 0);
            Vector256.Store(c2_1 * va, c + 2 * ldc + 8);
            Vector256.Store(c3_0 * va, c + 3 * ldc + 0);
            Vector256.Store(c3_1 * va, c + 3 * ldc + 8);
            Vector256.Store(c4_0 * va, c + 4 * ldc + 0);
            Vector256.Store(c4_1 * va, c + 4 * ldc + 8);
            Vector256.Store(c5_0 * va, c + 5 * ldc + 0);
            Vector256.Store(c5_1 * va, c + 5 * ldc + 8);
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 0 * ldc + 0), vb, c0_0 * va), c + 0 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 0 * ldc + 8), vb, c0_1 * va), c + 0 * ldc + 8);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 1 * ldc + 0), vb, c1_0 * va), c + 1 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 1 * ldc + 8), vb, c1_1 * va), c + 1 * ldc + 8);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 2 * ldc + 0), vb, c2_0 * va), c + 2 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 2 * ldc + 8), vb, c2_1 * va), c + 2 * ldc + 8);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 3 * ldc + 0), vb, c3_0 * va), c + 3 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 3 * ldc + 8), vb, c3_1 * va), c + 3 * ldc + 8);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 4 * ldc + 0), vb, c4_0 * va), c + 4 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 4 * ldc + 8), vb, c4_1 * va), c + 4 * ldc + 8);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 5 * ldc + 0), vb, c5_0 * va), c + 5 * ldc + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 5 * ldc + 8), vb, c5_1 * va), c + 5 * ldc + 8);
        }
    }
}
