// Fully unrolled: one FMA per accumulator per k step, every accumulator held in a register.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>AVX-512 micro-kernel: 12×32 tile, 24 zmm accumulators, B rows as 2 vectors, A broadcast per row.</summary>
internal readonly struct GemmKernel512 : IMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;

    // packed A [kc,12] · packed B [kc,32] -> C tile [12,32] (row stride ldc)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0_0 = default; Vector512<float> c0_1 = default;
        Vector512<float> c1_0 = default; Vector512<float> c1_1 = default;
        Vector512<float> c2_0 = default; Vector512<float> c2_1 = default;
        Vector512<float> c3_0 = default; Vector512<float> c3_1 = default;
        Vector512<float> c4_0 = default; Vector512<float> c4_1 = default;
        Vector512<float> c5_0 = default; Vector512<float> c5_1 = default;
        Vector512<float> c6_0 = default; Vector512<float> c6_1 = default;
        Vector512<float> c7_0 = default; Vector512<float> c7_1 = default;
        Vector512<float> c8_0 = default; Vector512<float> c8_1 = default;
        Vector512<float> c9_0 = default; Vector512<float> c9_1 = default;
        Vector512<float> c10_0 = default; Vector512<float> c10_1 = default;
        Vector512<float> c11_0 = default; Vector512<float> c11_1 = default;
        if (Sse.IsSupported)
        {
            // Fetch the C tile (12 rows of 128 bytes, possibly straddling a line) while the k loop runs.
            for (int i = 0; i < 12; i++)
            {
                float* row = c + i * ldc;
                Sse.Prefetch0(row);
                Sse.Prefetch0(row + 16);
                Sse.Prefetch0(row + 31);
            }
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a[0]);
            c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a[1]);
            c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a[2]);
            c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a[3]);
            c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            Vector512<float> a4 = Vector512.Create(a[4]);
            c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            Vector512<float> a5 = Vector512.Create(a[5]);
            c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            Vector512<float> a6 = Vector512.Create(a[6]);
            c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            Vector512<float> a7 = Vector512.Create(a[7]);
            c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            Vector512<float> a8 = Vector512.Create(a[8]);
            c8_0 = Vector512.FusedMultiplyAdd(a8, b0, c8_0);
            c8_1 = Vector512.FusedMultiplyAdd(a8, b1, c8_1);
            Vector512<float> a9 = Vector512.Create(a[9]);
            c9_0 = Vector512.FusedMultiplyAdd(a9, b0, c9_0);
            c9_1 = Vector512.FusedMultiplyAdd(a9, b1, c9_1);
            Vector512<float> a10 = Vector512.Create(a[10]);
            c10_0 = Vector512.FusedMultiplyAdd(a10, b0, c10_0);
            c10_1 = Vector512.FusedMultiplyAdd(a10, b1, c10_1);
            Vector512<float> a11 = Vector512.Create(a[11]);
            c11_0 = Vector512.FusedMultiplyAdd(a11, b0, c11_0);
            c11_1 = Vector512.FusedMultiplyAdd(a11, b1, c11_1);
            a += 12;
            b += 32;
        }
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0)
        {
            Vector512.Store(c0_0 * va, c + 0 * ldc + 0);
            Vector512.Store(c0_1 * va, c + 0 * ldc + 16);
            Vector512.Store(c1_0 * va, c + 1 * ldc + 0);
            Vector512.Store(c1_1 * va, c + 1 * ldc + 16);
            Vector512.Store(c2_0 * va, c + 2 * ldc + 0);
            Vector512.Store(c2_1 * va, c + 2 * ldc + 16);
            Vector512.Store(c3_0 * va, c + 3 * ldc + 0);
            Vector512.Store(c3_1 * va, c + 3 * ldc + 16);
            Vector512.Store(c4_0 * va, c + 4 * ldc + 0);
            Vector512.Store(c4_1 * va, c + 4 * ldc + 16);
            Vector512.Store(c5_0 * va, c + 5 * ldc + 0);
            Vector512.Store(c5_1 * va, c + 5 * ldc + 16);
            Vector512.Store(c6_0 * va, c + 6 * ldc + 0);
            Vector512.Store(c6_1 * va, c + 6 * ldc + 16);
            Vector512.Store(c7_0 * va, c + 7 * ldc + 0);
            Vector512.Store(c7_1 * va, c + 7 * ldc + 16);
            Vector512.Store(c8_0 * va, c + 8 * ldc + 0);
            Vector512.Store(c8_1 * va, c + 8 * ldc + 16);
            Vector512.Store(c9_0 * va, c + 9 * ldc + 0);
            Vector512.Store(c9_1 * va, c + 9 * ldc + 16);
            Vector512.Store(c10_0 * va, c + 10 * ldc + 0);
            Vector512.Store(c10_1 * va, c + 10 * ldc + 16);
            Vector512.Store(c11_0 * va, c + 11 * ldc + 0);
            Vector512.Store(c11_1 * va, c + 11 * ldc + 16);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 0 * ldc + 0), vb, c0_0 * va), c + 0 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 0 * ldc + 16), vb, c0_1 * va), c + 0 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 1 * ldc + 0), vb, c1_0 * va), c + 1 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 1 * ldc + 16), vb, c1_1 * va), c + 1 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 2 * ldc + 0), vb, c2_0 * va), c + 2 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 2 * ldc + 16), vb, c2_1 * va), c + 2 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 3 * ldc + 0), vb, c3_0 * va), c + 3 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 3 * ldc + 16), vb, c3_1 * va), c + 3 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 4 * ldc + 0), vb, c4_0 * va), c + 4 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 4 * ldc + 16), vb, c4_1 * va), c + 4 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 5 * ldc + 0), vb, c5_0 * va), c + 5 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 5 * ldc + 16), vb, c5_1 * va), c + 5 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 6 * ldc + 0), vb, c6_0 * va), c + 6 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 6 * ldc + 16), vb, c6_1 * va), c + 6 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 7 * ldc + 0), vb, c7_0 * va), c + 7 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 7 * ldc + 16), vb, c7_1 * va), c + 7 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 8 * ldc + 0), vb, c8_0 * va), c + 8 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 8 * ldc + 16), vb, c8_1 * va), c + 8 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 9 * ldc + 0), vb, c9_0 * va), c + 9 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 9 * ldc + 16), vb, c9_1 * va), c + 9 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 10 * ldc + 0), vb, c10_0 * va), c + 10 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 10 * ldc + 16), vb, c10_1 * va), c + 10 * ldc + 16);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 11 * ldc + 0), vb, c11_0 * va), c + 11 * ldc + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 11 * ldc + 16), vb, c11_1 * va), c + 11 * ldc + 16);
        }
    }
}
