using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Tests that change process-wide settings (Engine.Threads, GEMM blocking) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalEngineStateCollection
{
    public const string Name = "Global engine state";
}

[Collection(GlobalEngineStateCollection.Name)]
public class GemmDeterminismTests
{
    // Shapes that split C by rows, by columns, and one below the parallel threshold.
    private static readonly (int M, int N, int K, bool TA, bool TB)[] Shapes =
    [
        (300, 257, 300, false, false),
        (13, 700, 64, true, true),
        (257, 96, 129, false, true),
        (31, 17, 29, true, false),
    ];

    [Fact]
    public void SameBitsForEveryThreadCountAndRun()
    {
        int saved = Engine.Threads;
        try
        {
            var rng = new Random(3);
            foreach (var isa in GemmTestData.Isas())
            {
                foreach (var (m, n, k, ta, tb) in Shapes)
                {
                    float[] a = GemmTestData.Matrix(rng, ta ? k : m, ta ? m : k, ta ? m : k);
                    float[] b = GemmTestData.Matrix(rng, tb ? n : k, tb ? k : n, tb ? k : n);
                    float[] c0 = GemmTestData.Matrix(rng, m, n, n);
                    float[]? first = null;
                    foreach (int threads in new[] { 1, 2, 3, 2, 1 })
                    {
                        Engine.Threads = threads;
                        float[] c = (float[])c0.Clone();
                        GemmTests.WithIsa(isa, () => Gemm.Sgemm(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, c, n));
                        if (first is null)
                            first = c;
                        else
                            Assert.True(first.AsSpan().SequenceEqual(c), $"{isa} {m}x{n}x{k}: threads={threads} changed the result bits");
                    }
                }
            }
        }
        finally
        {
            Engine.Threads = saved;
        }
    }

    [Fact]
    public void BatchedSameBitsForEveryThreadCount()
    {
        int saved = Engine.Threads;
        try
        {
            var rng = new Random(4);
            const int batch = 5, m = 33, n = 40, k = 24;
            float[] a = GemmTestData.Matrix(rng, batch * m, k, k);
            float[] b = GemmTestData.Matrix(rng, n, k, k);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Engine.Threads = threads;
                float[] c = new float[batch * m * n];
                Gemm.SgemmBatched(false, true, batch, m, n, k, 1f, a, k, m * k, b, k, 0, 0f, c, n, m * n);
                // Each matrix matches the unbatched call bit for bit.
                float[] single = new float[m * n];
                Gemm.Sgemm(false, true, m, n, k, 1f, a.AsSpan(2 * m * k), k, b, k, 0f, single, n);
                Assert.True(single.AsSpan().SequenceEqual(c.AsSpan(2 * m * n, m * n)), "batched differs from single call");
                if (first is null)
                    first = c;
                else
                    Assert.True(first.AsSpan().SequenceEqual(c), $"threads={threads} changed the batched result bits");
            }
        }
        finally
        {
            Engine.Threads = saved;
        }
    }

    // Small cache blocks force several K, M and N blocks (and ragged ones) through the driver.
    [Fact]
    public void SmallBlockingMatchesReference()
    {
        int kc = Gemm.KC, mc = Gemm.MC, nc = Gemm.NC;
        int saved = Engine.Threads;
        try
        {
            Gemm.KC = 20;
            Gemm.MC = 50;
            Gemm.NC = 70;
            Engine.Threads = 2;
            var rng = new Random(8);
            foreach (var (ta, tb) in new[] { (false, false), (true, true), (false, true), (true, false) })
            {
                const int m = 131, n = 203, k = 67;
                int lda = ta ? m : k, ldb = tb ? k : n;
                float[] a = GemmTestData.Matrix(rng, ta ? k : m, ta ? m : k, lda);
                float[] b = GemmTestData.Matrix(rng, tb ? n : k, tb ? k : n, ldb);
                float[] c0 = GemmTestData.Matrix(rng, m, n, n);
                float[] expected = (float[])c0.Clone();
                Gemm.Reference(ta, tb, m, n, k, 1f, a, lda, b, ldb, 2f, expected, n);
                float[] bound = GemmTestData.Abs(c0);
                Gemm.Reference(ta, tb, m, n, k, 1f, GemmTestData.Abs(a), lda, GemmTestData.Abs(b), ldb, 2f, bound, n);
                foreach (var isa in GemmTestData.Isas())
                {
                    float[] c = (float[])c0.Clone();
                    GemmTests.WithIsa(isa, () => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 2f, c, n));
                    GemmTestData.AssertClose(expected, c, bound, m, n, k, n, $"{isa} small blocks ({ta},{tb})");
                }
            }
        }
        finally
        {
            Gemm.KC = kc;
            Gemm.MC = mc;
            Gemm.NC = nc;
            Engine.Threads = saved;
        }
    }
}
