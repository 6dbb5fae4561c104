using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors;

/// <summary>
/// Register-blocked products for one attention head, sized for head dims that are multiples of 8
/// (8-float vectors) and sequences of tens to hundreds of tokens. A packed GEMM pays for packing
/// both operands on every call; at the shapes of one head (Q [T, 32] by Kᵀ [32, T]) that packing
/// costs more than the arithmetic, so these kernels read the operands in place: the left operand
/// row by row (broadcast), the right one as 8-wide rows, with a 4-row by 4-vector tile of
/// accumulators in registers. Each output element is a sum in index order, so results do not depend
/// on how rows are split over threads. All matrices are row-major with an explicit leading dimension.
/// </summary>
internal static unsafe class AttentionKernels
{
    /// <summary>Floats per vector.</summary>
    public const int Lanes = 8;

    /// <summary>Rows per register tile.</summary>
    public const int TileRows = 4;

    /// <summary>Whether the tiled kernels handle these head dims (query/key D, value Dv).</summary>
    public static bool Supports(int d, int dv) =>
        Vector256.IsHardwareAccelerated && d > 0 && dv > 0 && d % Lanes == 0 && dv % Lanes == 0 && d <= 512 && dv <= 512;

    /// <summary><paramref name="n"/> rounded up to a whole number of vectors.</summary>
    public static int Pad(int n) => (n + Lanes - 1) & ~(Lanes - 1);

    /// <summary>
    /// bt[c, j] = b[j, c] for j &lt; n, and 0 for n ≤ j &lt; ldt: b [n, cols] (leading dim ldb) to
    /// bt [cols, ldt], so a row of bt is a key dimension across keys.
    /// </summary>
    public static void Transpose(float* b, int ldb, int n, int cols, float* bt, int ldt)
    {
        for (int c = 0; c < cols; c++)
        {
            float* dst = bt + ((long)c * ldt);
            float* src = b + c;
            for (int j = 0; j < n; j++)
                dst[j] = src[(long)j * ldb];
            for (int j = n; j < ldt; j++)
                dst[j] = 0f;
        }
    }

    /// <summary>
    /// c[r, j] = alpha · Σ_p a[r, p] · b[p, j] for r &lt; m (at most <see cref="TileRows"/>) and
    /// j &lt; width (a multiple of <see cref="Lanes"/>): the scores Q Kᵀ (b = the transposed K),
    /// the output P V, dP = dO Vᵀ and dQ = dS K. a [m, inner] (lda), b [inner, ≥ width] (ldb),
    /// c [m, ≥ width] (ldc), overwritten.
    /// </summary>
    public static void RowsTimesMatrix(int m, int width, int inner, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int j = 0;
        if (m == TileRows)
        {
            for (; j + (4 * Lanes) <= width; j += 4 * Lanes)
                Tile4x4(inner, alpha, a, lda, b + j, ldb, c + j, ldc);
            // Causal blocks end on any multiple of 8 keys: the last 8-24 get narrower 4-row tiles
            // (a single accumulator per dot product would wait on each FMA's latency).
            if (j + (2 * Lanes) <= width)
            {
                Tile4x2(inner, alpha, a, lda, b + j, ldb, c + j, ldc);
                j += 2 * Lanes;
            }
            if (j + Lanes <= width)
            {
                Tile4x1(inner, alpha, a, lda, b + j, ldb, c + j, ldc);
                j += Lanes;
            }
        }
        for (; j < width; j += Lanes)
        {
            for (int r = 0; r < m; r++)
            {
                float* ar = a + ((long)r * lda);
                var acc = Vector256<float>.Zero;
                for (int p = 0; p < inner; p++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(ar[p]), Vector256.Load(b + ((long)p * ldb) + j), acc);
                (acc * alpha).Store(c + ((long)r * ldc) + j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        float* bp = b;
        for (int p = 0; p < k; p++, bp += ldb)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + Lanes);
            var b2 = Vector256.Load(bp + (2 * Lanes));
            var b3 = Vector256.Load(bp + (3 * Lanes));
            var x = Vector256.Create(a0[p]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, b2, c02);
            c03 = Vector256.FusedMultiplyAdd(x, b3, c03);
            x = Vector256.Create(a1[p]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, b2, c12);
            c13 = Vector256.FusedMultiplyAdd(x, b3, c13);
            x = Vector256.Create(a2[p]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(x, b2, c22);
            c23 = Vector256.FusedMultiplyAdd(x, b3, c23);
            x = Vector256.Create(a3[p]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(x, b2, c32);
            c33 = Vector256.FusedMultiplyAdd(x, b3, c33);
        }
        StoreRow(c, alpha, c00, c01, c02, c03);
        StoreRow(c + ldc, alpha, c10, c11, c12, c13);
        StoreRow(c + (2L * ldc), alpha, c20, c21, c22, c23);
        StoreRow(c + (3L * ldc), alpha, c30, c31, c32, c33);
    }

    private static void Tile4x2(int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        float* bp = b;
        for (int p = 0; p < k; p++, bp += ldb)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + Lanes);
            var x = Vector256.Create(a0[p]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        (c00 * alpha).Store(c);
        (c01 * alpha).Store(c + Lanes);
        (c10 * alpha).Store(c + ldc);
        (c11 * alpha).Store(c + ldc + Lanes);
        (c20 * alpha).Store(c + (2L * ldc));
        (c21 * alpha).Store(c + (2L * ldc) + Lanes);
        (c30 * alpha).Store(c + (3L * ldc));
        (c31 * alpha).Store(c + (3L * ldc) + Lanes);
    }

    private static void Tile4x1(int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        float* bp = b;
        for (int p = 0; p < k; p++, bp += ldb)
        {
            var b0 = Vector256.Load(bp);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a0[p]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a1[p]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a2[p]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a3[p]), b0, c3);
        }
        (c0 * alpha).Store(c);
        (c1 * alpha).Store(c + ldc);
        (c2 * alpha).Store(c + (2L * ldc));
        (c3 * alpha).Store(c + (3L * ldc));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, float alpha, Vector256<float> x0, Vector256<float> x1, Vector256<float> x2, Vector256<float> x3)
    {
        (x0 * alpha).Store(c);
        (x1 * alpha).Store(c + Lanes);
        (x2 * alpha).Store(c + (2 * Lanes));
        (x3 * alpha).Store(c + (3 * Lanes));
    }

    /// <summary>
    /// c[j, :] += alpha · Σ_i a[i, j] · b[i, :] for j &lt; n, i &lt; m: dV += Pᵀ dO and dK += dSᵀ Q.
    /// Under the end-aligned causal rule row i sees key j only when i ≥ j − <paramref name="causalShift"/>
    /// (its entries of a are 0 otherwise), so each block of keys starts at the first row that sees it;
    /// pass a shift ≥ n for no such skipping. a [m, ≥ n] (lda), b [m, cols] (ldb), c [n, cols] (ldc);
    /// cols is a multiple of <see cref="Lanes"/>. Each c element adds its terms in increasing i.
    /// </summary>
    public static void TransposedTimesMatrixAdd(int m, int n, int cols, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc, int causalShift)
    {
        int j = 0;
        for (; j + TileRows <= n; j += TileRows)
        {
            int first = Math.Max(0, j - causalShift);
            if (first >= m)
                break;
            int col = 0;
            for (; col + (4 * Lanes) <= cols; col += 4 * Lanes)
                OuterTile4x4(first, m, alpha, a + j, lda, b + col, ldb, c + ((long)j * ldc) + col, ldc);
            for (; col < cols; col += Lanes)
                for (int r = 0; r < TileRows; r++)
                    OuterColumn(first, m, alpha, a + j + r, lda, b + col, ldb, c + ((long)(j + r) * ldc) + col);
        }
        for (; j < n; j++)
        {
            int first = Math.Max(0, j - causalShift);
            if (first >= m)
                break;
            for (int col = 0; col < cols; col += Lanes)
                OuterColumn(first, m, alpha, a + j, lda, b + col, ldb, c + ((long)j * ldc) + col);
        }
    }

    private static void OuterColumn(int first, int m, float alpha, float* a, int lda, float* b, int ldb, float* c)
    {
        var acc = Vector256<float>.Zero;
        for (int i = first; i < m; i++)
            acc = Vector256.FusedMultiplyAdd(Vector256.Create(a[(long)i * lda]), Vector256.Load(b + ((long)i * ldb)), acc);
        Vector256.FusedMultiplyAdd(acc, Vector256.Create(alpha), Vector256.Load(c)).Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterTile4x4(int first, int m, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* ap = a + ((long)first * lda);
        float* bp = b + ((long)first * ldb);
        for (int i = first; i < m; i++, ap += lda, bp += ldb)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + Lanes);
            var b2 = Vector256.Load(bp + (2 * Lanes));
            var b3 = Vector256.Load(bp + (3 * Lanes));
            var x = Vector256.Create(ap[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, b2, c02);
            c03 = Vector256.FusedMultiplyAdd(x, b3, c03);
            x = Vector256.Create(ap[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, b2, c12);
            c13 = Vector256.FusedMultiplyAdd(x, b3, c13);
            x = Vector256.Create(ap[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(x, b2, c22);
            c23 = Vector256.FusedMultiplyAdd(x, b3, c23);
            x = Vector256.Create(ap[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(x, b2, c32);
            c33 = Vector256.FusedMultiplyAdd(x, b3, c33);
        }
        AddRow(c, alpha, c00, c01, c02, c03);
        AddRow(c + ldc, alpha, c10, c11, c12, c13);
        AddRow(c + (2L * ldc), alpha, c20, c21, c22, c23);
        AddRow(c + (3L * ldc), alpha, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, float alpha, Vector256<float> x0, Vector256<float> x1, Vector256<float> x2, Vector256<float> x3)
    {
        var s = Vector256.Create(alpha);
        Vector256.FusedMultiplyAdd(x0, s, Vector256.Load(c)).Store(c);
        Vector256.FusedMultiplyAdd(x1, s, Vector256.Load(c + Lanes)).Store(c + Lanes);
        Vector256.FusedMultiplyAdd(x2, s, Vector256.Load(c + (2 * Lanes))).Store(c + (2 * Lanes));
        Vector256.FusedMultiplyAdd(x3, s, Vector256.Load(c + (3 * Lanes))).Store(c + (3 * Lanes));
    }
}
