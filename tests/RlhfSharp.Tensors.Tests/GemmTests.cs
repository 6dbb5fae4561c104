using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Shared helpers: random operands with padded leading dimensions and the error bound.</summary>
internal static class GemmTestData
{
    // Every micro-kernel width this machine runs natively (the scalar one always).
    public static GemmIsa[] Isas()
    {
        var list = new List<GemmIsa>();
        if (Vector512.IsHardwareAccelerated)
            list.Add(GemmIsa.Vector512);
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            list.Add(GemmIsa.Vector256);
        list.Add(GemmIsa.Scalar);
        return [.. list];
    }

    // A rows×cols matrix with row stride ld; padding between rows is NaN, so any read of it shows.
    public static float[] Matrix(Random rng, int rows, int cols, int ld)
    {
        var x = new float[Math.Max(1, (rows - 1) * ld + cols)];
        Array.Fill(x, float.NaN);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
                x[i * ld + j] = rng.NextSingle() * 2 - 1;
        }
        return x;
    }

    public static float[] Abs(float[] x) => [.. x.Select(v => float.IsNaN(v) ? 0 : Math.Abs(v))];

    // Checks C against the reference, element by element, within the rounding-error bound:
    // any summation order of k products (blocked, FMA or not) is within γ_k·Σ|a_ip·b_pj| of the
    // exact sum (Higham, Accuracy and Stability, §3.1); scaling by alpha and the beta·C update add
    // two more roundings and the reference's final rounding one more, so
    // |C - ref| <= (k + 4)·u·(|alpha|·Σ|a||b| + |beta|·|C0|) with u = 2^-24 (γ_k ≈ k·u here).
    // `bound` holds |alpha|·|A|·|B| + |beta|·|C0| computed by the reference on absolute values.
    public static void AssertClose(float[] expected, float[] actual, float[] bound, int m, int n, int k, int ldc, string what)
    {
        const double u = 1.0 / (1 << 24);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int idx = i * ldc + j;
                double tol = (k + 4) * u * bound[idx] + 1e-30;
                double err = Math.Abs((double)actual[idx] - expected[idx]);
                if (!(err <= tol))
                    Assert.Fail($"{what}: C[{i},{j}] = {actual[idx]} but reference {expected[idx]} (|err| {err:g3} > tol {tol:g3})");
            }
        }
        // Padding between rows of C is left alone.
        for (int i = 0; i + 1 < m; i++)
        {
            for (int j = n; j < ldc; j++)
                Assert.True(actual[i * ldc + j] == expected[i * ldc + j] || (float.IsNaN(actual[i * ldc + j]) && float.IsNaN(expected[i * ldc + j])),
                    $"{what}: padding C[{i},{j}] changed");
        }
    }
}

public class GemmTests
{
    private static readonly int[] Small = [1, 2, 3, 5, 7, 13, 17, 31];

    // (m, n, k) triples: all small combinations plus larger odd/prime ones crossing the 12/32-wide
    // tile edges and the 256-deep K block.
    public static IEnumerable<(int M, int N, int K)> Sizes()
    {
        foreach (int m in new[] { 1, 3, 13, 31 })
        {
            foreach (int n in new[] { 1, 5, 17, 31 })
            {
                foreach (int k in new[] { 1, 2, 7, 31 })
                    yield return (m, n, k);
            }
        }
        yield return (64, 97, 129);
        yield return (129, 64, 257);
        yield return (97, 200, 300);
        yield return (257, 31, 200);
        yield return (300, 129, 17);
        yield return (13, 300, 257);
        yield return (200, 257, 64);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void SgemmMatchesReferenceEveryIsa(bool transA, bool transB)
    {
        var rng = new Random(17 + (transA ? 2 : 0) + (transB ? 1 : 0));
        foreach (var (m, n, k) in Sizes())
        {
            // Leading dimensions wider than the rows, so padding (NaN) sits between rows.
            int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2;
            float[] a = GemmTestData.Matrix(rng, transA ? k : m, transA ? m : k, lda);
            float[] b = GemmTestData.Matrix(rng, transB ? n : k, transB ? k : n, ldb);
            float[] c0 = GemmTestData.Matrix(rng, m, n, ldc);
            const float alpha = 0.75f, beta = -1.5f;
            float[] expected = (float[])c0.Clone();
            Gemm.Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
            float[] bound = GemmTestData.Abs(c0);
            Gemm.Reference(transA, transB, m, n, k, Math.Abs(alpha), GemmTestData.Abs(a), lda, GemmTestData.Abs(b), ldb,
                Math.Abs(beta), bound, ldc);
            foreach (var isa in GemmTestData.Isas())
            {
                float[] c = (float[])c0.Clone();
                WithIsa(isa, () => Gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
                GemmTestData.AssertClose(expected, c, bound, m, n, k, ldc, $"{isa} trans=({transA},{transB}) {m}x{n}x{k}");
            }
        }
    }

    [Fact]
    public void BetaZeroIgnoresNaNInC()
    {
        var rng = new Random(5);
        const int m = 37, n = 45, k = 29;
        float[] a = GemmTestData.Matrix(rng, m, k, k);
        float[] b = GemmTestData.Matrix(rng, k, n, n);
        float[] expected = new float[m * n];
        Gemm.Reference(false, false, m, n, k, 2f, a, k, b, n, 0f, expected, n);
        float[] bound = new float[m * n];
        Gemm.Reference(false, false, m, n, k, 2f, GemmTestData.Abs(a), k, GemmTestData.Abs(b), n, 0f, bound, n);
        foreach (var isa in GemmTestData.Isas())
        {
            float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            WithIsa(isa, () => Gemm.Sgemm(false, false, m, n, k, 2f, a, k, b, n, 0f, c, n));
            GemmTestData.AssertClose(expected, c, bound, m, n, k, n, $"{isa} beta=0");
        }
    }

    [Fact]
    public void ZeroKOrZeroAlphaScalesC()
    {
        float[] c = [1, 2, float.NaN, 4];
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0.5f, c.AsSpan(), 2);
        Assert.Equal([0.5f, 1f, float.NaN, 2f], c);
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 0f, c.AsSpan(), 2);
        Assert.Equal([0f, 0f, 0f, 0f], c);
        float[] c2 = [1, 2, 3, 4];
        Gemm.Sgemm(false, false, 2, 2, 1, 0f, [1f, 2f], 1, [3f, 4f], 2, 2f, c2.AsSpan(), 2);
        Assert.Equal([2f, 4f, 6f, 8f], c2);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Bf16MatchesReferenceOnRoundedB(bool transA, bool transB)
    {
        var rng = new Random(23);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (13, 17, 31), (31, 33, 7), (97, 129, 257), (200, 45, 64) })
        {
            int lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 3, ldc = n;
            float[] a = GemmTestData.Matrix(rng, transA ? k : m, transA ? m : k, lda);
            int bRows = transB ? n : k, bCols = transB ? k : n;
            var bits = new ushort[(bRows - 1) * ldb + bCols];
            for (int i = 0; i < bits.Length; i++)
                bits[i] = (ushort)(BitConverter.SingleToUInt32Bits(rng.NextSingle() * 2 - 1) >> 16);
            // bfloat16 -> float is exact: the bits are the float's upper half.
            float[] bf = [.. bits.Select(h => BitConverter.UInt32BitsToSingle((uint)h << 16))];
            float[] c0 = GemmTestData.Matrix(rng, m, n, ldc);
            float[] expected = (float[])c0.Clone();
            Gemm.Reference(transA, transB, m, n, k, 1.25f, a, lda, bf, ldb, 0.5f, expected, ldc);
            float[] bound = GemmTestData.Abs(c0);
            Gemm.Reference(transA, transB, m, n, k, 1.25f, GemmTestData.Abs(a), lda, GemmTestData.Abs(bf), ldb, 0.5f, bound, ldc);
            foreach (var isa in GemmTestData.Isas())
            {
                float[] c = (float[])c0.Clone();
                WithIsa(isa, () => Gemm.SgemmBf16B(transA, transB, m, n, k, 1.25f, a, lda, bits, ldb, 0.5f, c, ldc));
                GemmTestData.AssertClose(expected, c, bound, m, n, k, ldc, $"bf16 {isa} trans=({transA},{transB}) {m}x{n}x{k}");
            }
        }
    }

    [Theory]
    [InlineData(6, 17, 33, 9, false, true)]     // small matrices: split over the batch
    [InlineData(3, 129, 97, 200, true, false)]  // large matrices: split inside each matrix
    public void BatchedWithBroadcastAMatchesReference(int batch, int m, int n, int k, bool transA, bool transB)
    {
        var rng = new Random(31);
        int lda = transA ? m : k, ldb = transB ? k : n, ldc = n + 1;
        float[] a = GemmTestData.Matrix(rng, transA ? k : m, transA ? m : k, lda); // strideA = 0
        long strideB = (long)(transB ? n : k) * ldb + 4, strideC = (long)m * ldc;
        float[] b = new float[strideB * batch];
        for (int i = 0; i < b.Length; i++)
            b[i] = rng.NextSingle() * 2 - 1;
        float[] c = new float[strideC * batch];
        for (int i = 0; i < c.Length; i++)
            c[i] = rng.NextSingle();
        float[] expected = (float[])c.Clone();
        for (int i = 0; i < batch; i++)
        {
            Gemm.Reference(transA, transB, m, n, k, -1f, a, lda, b.AsSpan((int)(i * strideB)), ldb, 0.25f,
                expected.AsSpan((int)(i * strideC)), ldc);
        }
        float[] bound = GemmTestData.Abs(c);
        float[] absB = GemmTestData.Abs(b);
        for (int i = 0; i < batch; i++)
        {
            Gemm.Reference(transA, transB, m, n, k, 1f, GemmTestData.Abs(a), lda, absB.AsSpan((int)(i * strideB)), ldb, 0.25f,
                bound.AsSpan((int)(i * strideC)), ldc);
        }
        Gemm.SgemmBatched(transA, transB, batch, m, n, k, -1f, a, lda, 0, b, ldb, strideB, 0.25f, c, ldc, strideC);
        GemmTestData.AssertClose(expected, c, bound, batch * m, n, k, ldc, "batched");
    }

    [Fact]
    public void ArgumentErrorsNameTheOpAndShapes()
    {
        float[] a = new float[80], b = new float[100], c = new float[400];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 17, 5, 5, 1f, a, 5, b, 5, 0f, c, 5));
        Assert.Contains("Sgemm: A is 17x5 (lda=5) but span holds 80 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, -1, 5, 5, 1f, a, 5, b, 5, 0f, c, 5));
        Assert.Contains("m=-1", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 4, 5, 6, 1f, a, 6, b, 5, 0f, c, 5));
        Assert.Contains("Sgemm: B is 5x6 but ldb=5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 25, 4, 1f, a, 4, b, 25, 0f, c.AsSpan(0, 90), 25));
        Assert.Contains("Sgemm: C is 4x25 (ldc=25) but span holds 90 floats; need at least 100", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.SgemmBf16B(true, false, 3, 3, 40, 1f, new float[120], 3, new ushort[10], 3, 0f, c, 3));
        Assert.Contains("SgemmBf16B: B is 40x3 (ldb=3) but span holds 10 bf16 values", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 4, 4, 4, 1f, a, 4, -1, b, 4, 16, 0f, c, 4, 16));
        Assert.Contains("SgemmBatched: strideA must be non-negative", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 8, 4, 4, 4, 1f, a, 4, 0, b, 4, 16, 0f, c, 4, 16));
        Assert.Contains("SgemmBatched: B is 4x4 (ldb=4, batch=8, strideB=16) but span holds 100 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 4, 4, 4, 1f, a, 4, 0, b, 4, 16, 0f, c, 4, 0));
        Assert.Contains("strideC is 0", e.Message);
    }

    // Runs `action` with the micro-kernel forced to `isa` on this thread.
    internal static void WithIsa(GemmIsa isa, Action action)
    {
        var saved = Gemm.ForceIsa;
        Gemm.ForceIsa = isa;
        try
        {
            action();
        }
        finally
        {
            Gemm.ForceIsa = saved;
        }
    }
}
