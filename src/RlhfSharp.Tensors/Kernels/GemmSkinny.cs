using System.Numerics.Tensors;

namespace RlhfSharp.Tensors.Kernels;

public static partial class Gemm
{
    // Products with this few rows of C (one decoding step of a small batch: x [B, C] · Wᵀ) skip
    // packing: packing B touches all n·k of it for only m·n·k multiply-adds, so at small m it costs
    // as much as the product. Instead each C element is a dot product (B transposed, i.e. a weight
    // stored [out, in]) or an axpy sum over B's rows, with a fixed order in k.
    internal const int SkinnyMaxRows = 8;

    // Below this many multiply-adds one thread does the whole product.
    private const long SkinnyParallelThreshold = 1L << 16;

    private static unsafe bool TrySkinny(in GemmJob job, int threads)
    {
        if (job.M > SkinnyMaxRows)
            return false;
        RunSkinny(job, threads);
        return true;
    }

    // Apart from TrySkinny so that the closure below is only allocated when a skinny product runs.
    private static unsafe void RunSkinny(GemmJob job, int threads)
    {
        int m = job.M, k = job.K;
        // Rows of op(A) gathered into one contiguous block [m, k] (A is tiny here).
        var aRows = new float[m * k];
        var pa = (float*)job.A;
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++)
                aRows[(i * k) + p] = job.TransA ? pa[((nint)p * job.Lda) + i] : pa[((nint)i * job.Lda) + p];
        }
        var j = job;
        int chunks = (long)m * job.N * k < SkinnyParallelThreshold ? 1 : threads;
        ParallelFor.RunChunks(job.N, chunks, (j0, j1) =>
        {
            if (j.TransB)
                SkinnyDots(j, aRows, j0, j1);
            else
                SkinnyAxpy(j, aRows, j0, j1);
        });
    }

    // C[i, j] = alpha·dot(A_i, B_j) + beta·C[i, j] with B stored [n, k].
    private static unsafe void SkinnyDots(in GemmJob job, float[] aRows, int j0, int j1)
    {
        int m = job.M, k = job.K;
        var bRow = job.BIsBf16 ? new float[k] : null;
        var pc = (float*)job.C;
        for (int col = j0; col < j1; col++)
        {
            ReadOnlySpan<float> b;
            if (bRow is null)
            {
                b = new ReadOnlySpan<float>((float*)job.B + ((nint)col * job.Ldb), k);
            }
            else
            {
                BFloat16.ToFloat(new ReadOnlySpan<ushort>((ushort*)job.B + ((nint)col * job.Ldb), k), bRow);
                b = bRow;
            }
            for (int i = 0; i < m; i++)
            {
                float dot = TensorPrimitives.Dot(aRows.AsSpan(i * k, k), b);
                ref float cij = ref pc[((nint)i * job.Ldc) + col];
                cij = job.Beta == 0 ? job.Alpha * dot : (job.Alpha * dot) + (job.Beta * cij);
            }
        }
    }

    // C[i, j0:j1] = alpha·Σ_p A[i, p]·B[p, j0:j1] + beta·C with B stored [k, n].
    private static unsafe void SkinnyAxpy(in GemmJob job, float[] aRows, int j0, int j1)
    {
        int m = job.M, k = job.K, w = j1 - j0;
        var acc = new float[m * w];
        var bRow = job.BIsBf16 ? new float[w] : null;
        for (int p = 0; p < k; p++)
        {
            ReadOnlySpan<float> b;
            if (bRow is null)
            {
                b = new ReadOnlySpan<float>((float*)job.B + ((nint)p * job.Ldb) + j0, w);
            }
            else
            {
                BFloat16.ToFloat(new ReadOnlySpan<ushort>((ushort*)job.B + ((nint)p * job.Ldb) + j0, w), bRow);
                b = bRow;
            }
            for (int i = 0; i < m; i++)
            {
                var dst = acc.AsSpan(i * w, w);
                TensorPrimitives.MultiplyAdd(b, aRows[(i * k) + p], dst, dst);
            }
        }
        var pc = (float*)job.C;
        for (int i = 0; i < m; i++)
        {
            var c = new Span<float>(pc + ((nint)i * job.Ldc) + j0, w);
            var src = acc.AsSpan(i * w, w);
            if (job.Beta == 0)
            {
                TensorPrimitives.Multiply(src, job.Alpha, c);
            }
            else
            {
                TensorPrimitives.Multiply(c, job.Beta, c);
                TensorPrimitives.MultiplyAdd(src, job.Alpha, c, c);
            }
        }
    }
}
