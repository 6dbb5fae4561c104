namespace RlhfSharp.Tensors.Gpu.Cuda;

/// <summary>
/// How a row-major batched product c [batch, m, n] = a [batch, m, k] · b [batch, k, n] is handed to
/// a column-major BLAS. A row-major matrix read as column-major is its transpose, so the BLAS
/// computes cᵀ = bᵀ·aᵀ: its "A" is our b and its "B" is our a, with m and n swapped. An operand
/// whose rows are contiguous (column stride 1) is passed untransposed with ld = its row stride; a
/// transposed view (row stride 1) is passed with the transpose flag and ld = its column stride; any
/// other layout is copied first. Batches are one strided-batched call when each operand's batch
/// dims reduce to a single stride (0 for a broadcast operand), else one call per batch.
/// </summary>
internal readonly record struct GemmPlan(
    bool TransA, bool TransB, int M, int N, int K,
    int Lda, long StrideA, int Ldb, long StrideB, int Ldc, long StrideC, int BatchCount,
    bool NeedsCopyOfOurA, bool NeedsCopyOfOurB, bool Uniform)
{
    /// <summary>The plan for our a [.., m, k] and b [.., k, n] (layouts only; no data is read).</summary>
    public static GemmPlan For(int[] shapeA, int[] stridesA, int[] shapeB, int[] stridesB, int[] batchShape, int m, int n, int k)
    {
        var (transOurA, ldOurA, copyA) = Orientation(stridesA[^2], stridesA[^1], m, k);
        var (transOurB, ldOurB, copyB) = Orientation(stridesB[^2], stridesB[^1], k, n);
        int batch = ShapeUtil.Numel(batchShape);
        var sa = UniformStride(shapeA[..^2], stridesA[..^2], batchShape);
        var sb = UniformStride(shapeB[..^2], stridesB[..^2], batchShape);
        bool uniform = sa is not null && sb is not null;
        return new GemmPlan(
            TransA: transOurB, TransB: transOurA, M: n, N: m, K: k,
            Lda: ldOurB, StrideA: sb ?? 0, Ldb: ldOurA, StrideB: sa ?? 0,
            Ldc: n, StrideC: (long)m * n, BatchCount: batch,
            NeedsCopyOfOurA: copyA, NeedsCopyOfOurB: copyB, Uniform: uniform);
    }

    // A row-major view rows×cols with strides (rs, cs): (transpose flag for the BLAS, ld, must copy).
    // The BLAS needs ld ≥ the leading dim's extent, so a size-1 dim's (meaningless) stride is not used.
    private static (bool Trans, int Ld, bool Copy) Orientation(int rs, int cs, int rows, int cols)
    {
        if (cs == 1 || cols == 1)
            return (false, rows == 1 ? Math.Max(cols, 1) : Math.Max(rs, Math.Max(cols, 1)), rows > 1 && rs < cols);
        if (rs == 1 || rows == 1)
            return (true, cols == 1 ? Math.Max(rows, 1) : Math.Max(cs, Math.Max(rows, 1)), cols > 1 && cs < rows);
        return (false, cols, true);
    }

    /// <summary>The single stride stepping through the broadcast batch dims in order, or null if there is none.</summary>
    private static long? UniformStride(int[] shape, int[] strides, int[] batchShape)
    {
        var s = ShapeUtil.BroadcastStrides(shape, strides, batchShape);
        long? step = null;
        long span = 1;
        for (int d = batchShape.Length - 1; d >= 0; d--)
        {
            if (batchShape[d] == 1)
                continue;
            if (step is null)
            {
                step = s[d];
                span = batchShape[d];
                continue;
            }
            if (s[d] != step * span)
                return null;
            span *= batchShape[d];
        }
        return step ?? 0;
    }
}
