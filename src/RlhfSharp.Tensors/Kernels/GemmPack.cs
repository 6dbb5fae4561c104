using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// Packing for the GEMM: copies a block of op(A) into MR-row panels and a block of op(B) into
/// NR-column panels laid out in the order the micro-kernel reads them, zero-padding ragged edges.
/// Transposed operands are read in place here, so no operand is ever transposed as a whole.
/// </summary>
internal static unsafe class GemmPack
{
    // op(A)[i0:i0+mc, p0:p0+kc] -> panels [ceil(mc/MR)][kc][MR]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, nint lda, bool transA, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            if (transA)
            {
                // A stored k×m: row p of the stored matrix holds op(A)[:, p], so each k step is one
                // contiguous run of `rows` floats.
                float* src = a + (nint)p0 * lda + i0 + ir;
                for (int p = 0; p < kc; p++, src += lda, dst += mr)
                {
                    int i = 0;
                    if (Vector256.IsHardwareAccelerated)
                    {
                        for (; i + 8 <= rows; i += 8)
                            Vector256.Store(Vector256.Load(src + i), dst + i);
                        for (; i + 4 <= rows; i += 4)
                            Vector128.Store(Vector128.Load(src + i), dst + i);
                    }
                    for (; i < rows; i++)
                        dst[i] = src[i];
                    for (; i < mr; i++)
                        dst[i] = 0;
                }
            }
            else if (rows == 12 && mr == 12)
            {
                PackRows12(a + (nint)(i0 + ir) * lda + p0, lda, kc, dst);
                dst += (nint)kc * mr;
            }
            else if (rows == 6 && mr == 6)
            {
                PackRows6(a + (nint)(i0 + ir) * lda + p0, lda, kc, dst);
                dst += (nint)kc * mr;
            }
            else
            {
                // A stored m×k: gather one column of the panel per k step.
                float* src = a + (nint)(i0 + ir) * lda + p0;
                for (int p = 0; p < kc; p++, dst += mr)
                {
                    int i = 0;
                    for (; i < rows; i++)
                        dst[i] = src[i * lda + p];
                    for (; i < mr; i++)
                        dst[i] = 0;
                }
            }
        }
    }

    // A rows [12, kc] (row stride lda) -> [kc, 12]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows12(float* src, nint lda, int kc, float* dst)
    {
        int p0 = 0;
        if (Avx.IsSupported)
        {
            // Rows 0-7 by 8×8 register transposes, rows 8-11 element by element.
            float* s8 = src + 8 * lda, s9 = src + 9 * lda, s10 = src + 10 * lda, s11 = src + 11 * lda;
            for (; p0 + 8 <= kc; p0 += 8)
            {
                float* d = dst + p0 * 12;
                Transpose8x8(src + p0, lda, d, 12);
                for (int q = 0; q < 8; q++, d += 12)
                {
                    d[8] = s8[p0 + q]; d[9] = s9[p0 + q]; d[10] = s10[p0 + q]; d[11] = s11[p0 + q];
                }
            }
            dst += p0 * 12;
            src += p0;
            kc -= p0;
        }
        float* r0 = src, r1 = src + lda, r2 = src + 2 * lda, r3 = src + 3 * lda;
        float* r4 = src + 4 * lda, r5 = src + 5 * lda, r6 = src + 6 * lda, r7 = src + 7 * lda;
        float* r8 = src + 8 * lda, r9 = src + 9 * lda, r10 = src + 10 * lda, r11 = src + 11 * lda;
        for (int p = 0; p < kc; p++, dst += 12)
        {
            dst[0] = r0[p]; dst[1] = r1[p]; dst[2] = r2[p]; dst[3] = r3[p];
            dst[4] = r4[p]; dst[5] = r5[p]; dst[6] = r6[p]; dst[7] = r7[p];
            dst[8] = r8[p]; dst[9] = r9[p]; dst[10] = r10[p]; dst[11] = r11[p];
        }
    }

    // A rows [6, kc] (row stride lda) -> [kc, 6]: the AVX2 kernel's panels. Eight k steps at a time go
    // through an 8×8 register transpose whose two missing rows are zero; each transposed row's
    // first six floats are stored (four, then two), so nothing is written past the panel.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows6(float* src, nint lda, int kc, float* dst)
    {
        int p0 = 0;
        if (Avx.IsSupported)
        {
            float* s0 = src, s1 = src + lda, s2 = src + 2 * lda, s3 = src + 3 * lda, s4 = src + 4 * lda, s5 = src + 5 * lda;
            Vector256<float> zero = Vector256<float>.Zero;
            for (; p0 + 8 <= kc; p0 += 8)
            {
                Vector256<float> t0 = Avx.UnpackLow(Avx.LoadVector256(s0 + p0), Avx.LoadVector256(s1 + p0));
                Vector256<float> t1 = Avx.UnpackHigh(Avx.LoadVector256(s0 + p0), Avx.LoadVector256(s1 + p0));
                Vector256<float> t2 = Avx.UnpackLow(Avx.LoadVector256(s2 + p0), Avx.LoadVector256(s3 + p0));
                Vector256<float> t3 = Avx.UnpackHigh(Avx.LoadVector256(s2 + p0), Avx.LoadVector256(s3 + p0));
                Vector256<float> t4 = Avx.UnpackLow(Avx.LoadVector256(s4 + p0), Avx.LoadVector256(s5 + p0));
                Vector256<float> t5 = Avx.UnpackHigh(Avx.LoadVector256(s4 + p0), Avx.LoadVector256(s5 + p0));
                Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
                Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
                Vector256<float> u4 = Avx.Shuffle(t4, zero, 0x44), u5 = Avx.Shuffle(t4, zero, 0xEE);
                Vector256<float> u6 = Avx.Shuffle(t5, zero, 0x44), u7 = Avx.Shuffle(t5, zero, 0xEE);
                float* d = dst + p0 * 6;
                Store6(Avx.Permute2x128(u0, u4, 0x20), d);
                Store6(Avx.Permute2x128(u1, u5, 0x20), d + 6);
                Store6(Avx.Permute2x128(u2, u6, 0x20), d + 12);
                Store6(Avx.Permute2x128(u3, u7, 0x20), d + 18);
                Store6(Avx.Permute2x128(u0, u4, 0x31), d + 24);
                Store6(Avx.Permute2x128(u1, u5, 0x31), d + 30);
                Store6(Avx.Permute2x128(u2, u6, 0x31), d + 36);
                Store6(Avx.Permute2x128(u3, u7, 0x31), d + 42);
            }
        }
        float* r0 = src, r1 = src + lda, r2 = src + 2 * lda, r3 = src + 3 * lda, r4 = src + 4 * lda, r5 = src + 5 * lda;
        for (int p = p0; p < kc; p++)
        {
            float* d = dst + p * 6;
            d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
        }
    }

    // The first six floats of v to dst.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store6(Vector256<float> v, float* dst)
    {
        Vector128.Store(v.GetLower(), dst);
        *(double*)(dst + 4) = v.GetUpper().AsDouble().ToScalar();
    }

    // op(B)[p0:p0+kc, j0:j0+nc] -> panels [ceil(nc/NR)][kc][NR]; T is float or ushort (bfloat16 bits).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(T* b, nint ldb, bool transB, int j0, int nc, int p0, int kc, int nr, float* dst)
        where T : unmanaged
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            if (!transB)
            {
                // B stored k×n: each k step of the panel is one contiguous run of `cols` values.
                T* src = b + (nint)p0 * ldb + j0 + jr;
                for (int p = 0; p < kc; p++, src += ldb, dst += nr)
                {
                    int j = CopyRun(src, dst, cols);
                    for (; j < cols; j++)
                        dst[j] = ToFloat(src[j]);
                    for (; j < nr; j++)
                        dst[j] = 0;
                }
            }
            else
            {
                // B stored n×k: column j of the panel is row j0+jr+j of the stored matrix, read
                // along k and written with stride nr; whole 8×8 blocks go through registers.
                T* src = b + (nint)(j0 + jr) * ldb + p0;
                int jDone = 0, pDone = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported && cols == nr && nr % 8 == 0)
                {
                    pDone = kc & ~7;
                    jDone = cols;
                    for (int j = 0; j < cols; j += 8)
                    {
                        for (int p = 0; p < pDone; p += 8)
                            Transpose8x8((float*)(src + j * ldb + p), ldb, dst + (nint)p * nr + j, nr);
                    }
                    for (int j = 0; j < cols; j++)
                    {
                        T* s = src + j * ldb;
                        for (int p = pDone; p < kc; p++)
                            dst[(nint)p * nr + j] = ToFloat(s[p]);
                    }
                }
                for (int j = jDone; j < cols; j++)
                {
                    T* s = src + j * ldb;
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * nr] = ToFloat(s[p]);
                }
                for (int j = cols; j < nr; j++)
                {
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++)
                        d[(nint)p * nr] = 0;
                }
                dst += (nint)kc * nr;
            }
        }
    }

    // src [8,8] (row stride srcStride) -> dst [8,8] transposed (row stride dstStride).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint srcStride, float* dst, nint dstStride)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + srcStride);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * srcStride), r3 = Avx.LoadVector256(src + 3 * srcStride);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * srcStride), r5 = Avx.LoadVector256(src + 5 * srcStride);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * srcStride), r7 = Avx.LoadVector256(src + 7 * srcStride);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    // Copies whole 8-wide vectors of src (float, or bfloat16 widened to float); returns how many.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CopyRun<T>(T* src, float* dst, int count) where T : unmanaged
    {
        int j = 0;
        if (!Vector256.IsHardwareAccelerated)
            return 0;
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)src;
            for (; j + 8 <= count; j += 8)
                Vector256.Store(Vector256.Load(s + j), dst + j);
        }
        else if (typeof(T) == typeof(ushort))
        {
            ushort* s = (ushort*)src;
            for (; j + 8 <= count; j += 8)
            {
                Vector128<ushort> h = Vector128.Load(s + j);
                Vector256<uint> w = Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h));
                Vector256.Store(Vector256.ShiftLeft(w, 16).AsSingle(), dst + j);
            }
        }
        return j;
    }

    // float -> float; bfloat16 bits -> the float whose upper 16 bits they are.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Unsafe.As<T, float>(ref v);
        return BitConverter.Int32BitsToSingle(Unsafe.As<T, ushort>(ref v) << 16);
    }
}
