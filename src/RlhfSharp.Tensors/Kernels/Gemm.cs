namespace RlhfSharp.Tensors.Kernels;

/// <summary>Interim plain GEMM (replaced by the blocked SIMD kernel).</summary>
public static class Gemm
{
    // C[m,n] = alpha * op(A) * op(B) + beta * C
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public static void SgemmBf16B(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<ushort> b, int ldb, float beta, Span<float> c, int ldc)
    {
        var bf = new float[b.Length];
        BFloat16.ToFloat(b, bf);
        Reference(transA, transB, m, n, k, alpha, a, lda, bf, ldb, beta, c, ldc);
    }

    public static void SgemmBatched(bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        for (int i = 0; i < batch; i++)
            Reference(transA, transB, m, n, k, alpha, a[(int)(i * strideA)..], lda, b[(int)(i * strideB)..], ldb, beta, c[(int)(i * strideC)..], ldc);
    }

    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(transA ? a[(p * lda) + i] : a[(i * lda) + p]) * (transB ? b[(j * ldb) + p] : b[(p * ldb) + j]);
                c[(i * ldc) + j] = (float)(alpha * s) + (beta == 0 ? 0 : beta * c[(i * ldc) + j]);
            }
        }
    }
}
