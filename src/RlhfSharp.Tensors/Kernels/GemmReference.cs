namespace RlhfSharp.Tensors.Kernels;

public static partial class Gemm
{
    // op(A) [m,k] · op(B) [k,n] -> C [m,n]: plain triple loop with double accumulation, for tests.
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        const string op = "Reference";
        CheckDims(op, m, n, k);
        CheckMatrix(op, "A", transA ? k : m, transA ? m : k, lda, a.Length, 1, 0, "floats");
        CheckMatrix(op, "B", transB ? n : k, transB ? k : n, ldb, b.Length, 1, 0, "floats");
        CheckMatrix(op, "C", m, n, ldc, c.Length, 1, 0, "floats");
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                ref float cij = ref c[i * ldc + j];
                double old = beta == 0 ? 0 : (double)beta * cij;
                cij = (float)(alpha * sum + old);
            }
        }
    }
}
