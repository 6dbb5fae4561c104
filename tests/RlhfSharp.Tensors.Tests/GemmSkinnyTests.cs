using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

/// <summary>The few-row path (one decoding step: x [B, C] · Wᵀ) against the reference, every transpose, fp32 and bf16 B.</summary>
[Collection(GlobalEngineStateCollection.Name)]
public class GemmSkinnyTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void FewRowsMatchReferenceAndDoNotDependOnThreads(bool transA, bool transB)
    {
        var g = new Generator(31);
        foreach (int m in new[] { 1, 2, 3, Gemm.SkinnyMaxRows })
        {
            foreach (var (n, k) in new[] { (1, 1), (17, 5), (300, 129), (1024, 96) })
            {
                var a = g.Normal([m * k]).ToArray();
                var b = g.Normal([n * k]).ToArray();
                var bBits = new ushort[b.Length];
                BFloat16.FromFloat(b, bBits);
                var bRounded = new float[b.Length];
                BFloat16.ToFloat(bBits, bRounded);
                var c0 = g.Normal([m * n]).ToArray();
                int lda = transA ? m : k, ldb = transB ? k : n;

                var want = (float[])c0.Clone();
                Gemm.Reference(transA, transB, m, n, k, 0.5f, a, lda, b, ldb, 2f, want, n);
                var wantBf = (float[])c0.Clone();
                Gemm.Reference(transA, transB, m, n, k, 0.5f, a, lda, bRounded, ldb, 2f, wantBf, n);

                float[]? first = null;
                int saved = Engine.Threads;
                try
                {
                    foreach (int threads in new[] { 1, 2, 3 })
                    {
                        Engine.Threads = threads;
                        var got = (float[])c0.Clone();
                        Gemm.Sgemm(transA, transB, m, n, k, 0.5f, a, lda, b, ldb, 2f, got, n);
                        var gotBf = (float[])c0.Clone();
                        Gemm.SgemmBf16B(transA, transB, m, n, k, 0.5f, a, lda, bBits, ldb, 2f, gotBf, n);
                        // Tolerance: k products of N(0,1) values summed in fp32, (k + 4)·2⁻²⁴·Σ|a||b| ≤ (k + 4)·6e-8·k·4.
                        float tol = (k + 4) * 6e-8f * k * 4f + 1e-6f;
                        for (int i = 0; i < want.Length; i++)
                        {
                            Assert.True(Math.Abs(want[i] - got[i]) <= tol, $"m={m} n={n} k={k} [{i}]: {want[i]} vs {got[i]}");
                            Assert.True(Math.Abs(wantBf[i] - gotBf[i]) <= tol, $"bf16 m={m} n={n} k={k} [{i}]: {wantBf[i]} vs {gotBf[i]}");
                        }
                        first ??= got;
                        Assert.Equal(first, got);
                    }
                }
                finally
                {
                    Engine.Threads = saved;
                }
            }
        }
    }
}
