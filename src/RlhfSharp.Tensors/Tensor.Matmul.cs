using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product over the last two dims with broadcasting batch dims:
    /// a [.., m, k] · b [.., k, n] -> [.., m, n]. Transposed views (e.g. <c>w.T</c>) are passed to the
    /// GEMM as a transpose flag, never copied. A bf16 right operand is converted while packing;
    /// int32 and float64 operands are read as float32 (<see cref="Float"/>).
    /// </summary>
    public Tensor Matmul(Tensor other)
    {
        var a = this;
        var b = other;
        if (a.Rank < 2 || b.Rank < 2)
            throw new ShapeMismatchException("Matmul", $"both operands need rank >= 2, got {ShapeUtil.Format(a.ShapeArr)} and {ShapeUtil.Format(b.ShapeArr)}");
        int m = a.ShapeArr[^2], k = a.ShapeArr[^1], n = b.ShapeArr[^1];
        if (b.ShapeArr[^2] != k)
            throw new ShapeMismatchException("Matmul", $"inner dims differ: {ShapeUtil.Format(a.ShapeArr)} · {ShapeUtil.Format(b.ShapeArr)} ({k} vs {b.ShapeArr[^2]})");

        // x [.., m, k] · w [k, n]: fold the batch into rows for one large GEMM.
        if (b.Rank == 2 && a.Rank > 2)
        {
            var lead = a.ShapeArr[..^2];
            var flat = a.Reshape(-1, k).Matmul(b);
            return flat.Reshape([.. lead, m, n]);
        }

        if (!ShapeUtil.TryBroadcast(a.ShapeArr[..^2], b.ShapeArr[..^2], out var batchShape))
            throw new ShapeMismatchException("Matmul", $"batch dims of {ShapeUtil.Format(a.ShapeArr)} and {ShapeUtil.Format(b.ShapeArr)} cannot be broadcast together");
        var result = MatmulForward(a, b, batchShape, m, n, k);
        return Record(result, "matmul", [a, b], g =>
        [
            a.RequiresGrad ? g.Matmul(b.Transpose(-1, -2)).SumToShape(a.ShapeArr) : null,
            b.RequiresGrad ? MatmulGradB(a, b, g) : null,
        ]);
    }

    // dL/db = aᵀ·g. When b is a transposed 2-D view (a weight used as w.T), gᵀ·a is formed instead
    // and handed back transposed, so the gradient reaches w as a contiguous [n, k] array rather than
    // a transposed view to be copied element by element. Each element is the same K-ordered sum of
    // the same products either way, so the values are bit-identical.
    private static Tensor MatmulGradB(Tensor a, Tensor b, Tensor g)
    {
        if (b.Rank == 2 && a.Rank == 2 && b.StridesArr[0] == 1 && b.ShapeArr[0] > 1 && b.ShapeArr[1] > 1)
            return g.Transpose(-1, -2).Matmul(a).Transpose(-1, -2);
        return a.Transpose(-1, -2).Matmul(g).SumToShape(b.ShapeArr);
    }

    private static Tensor MatmulForward(Tensor a, Tensor b, int[] batchShape, int m, int n, int k)
    {
        var device = DeviceOf("Matmul", a, b);
        if (device is not null)
            return device.Matmul(OnBackend(device, a, "Matmul").DeviceFloat(), OnBackend(device, b, "Matmul").DeviceFloat(), batchShape, m, n, k);
        // The GEMM computes in fp32 and reads bf16 B directly; every other dtype (int32, float64,
        // a bf16 A) is converted explicitly, float64 rounded to nearest.
        if (a.Dtype != DType.Float32)
            a = a.Float();
        if (b.Dtype is not (DType.Float32 or DType.BFloat16))
            b = b.Float();
        int batch = ShapeUtil.Numel(batchShape);
        var (ta, lda, sa, A) = MatrixLayout(a, batchShape);
        var (tb, ldb, sb, B) = MatrixLayout(b, batchShape);
        var c = k == 0 ? GradBuffers.RentZeroed(batch * m * n) : GradBuffers.Rent(batch * m * n);
        var outShape = batchShape.Append(m).Append(n).ToArray();
        if (c.Length == 0)
            return new Tensor(c, outShape);
        if (k == 0)
            return new Tensor(c, outShape);
        var aSpan = A.F.AsSpan(A.Offset);
        if (B.Dtype == DType.BFloat16)
        {
            var bSpan = B.H.AsSpan(B.Offset);
            for (int i = 0; i < batch; i++)
            {
                Gemm.SgemmBf16B(ta, tb, m, n, k, 1f, aSpan[(int)(i * sa)..], lda, bSpan[(int)(i * sb)..], ldb, 0f, c.AsSpan(i * m * n, m * n), n);
            }
        }
        else if (batch == 1)
        {
            Gemm.Sgemm(ta, tb, m, n, k, 1f, aSpan, lda, B.F.AsSpan(B.Offset), ldb, 0f, c, n);
        }
        else
        {
            Gemm.SgemmBatched(ta, tb, batch, m, n, k, 1f, aSpan, lda, sa, B.F.AsSpan(B.Offset), ldb, sb, 0f, c, n, (long)m * n);
        }
        return new Tensor(c, outShape);
    }

    /// <summary>
    /// Describes x [.., r, c] as a batch of row-major matrices for GEMM: transposed flag, leading dim,
    /// batch stride (0 when broadcast) and the tensor to read (a contiguous copy only when the
    /// strides cannot be expressed that way).
    /// </summary>
    private static (bool Trans, int Ld, long BatchStride, Tensor Source) MatrixLayout(Tensor x, int[] batchShape)
    {
        int rank = x.Rank;
        int r = x.ShapeArr[rank - 2], c = x.ShapeArr[rank - 1];
        int s0 = x.StridesArr[rank - 2], s1 = x.StridesArr[rank - 1];

        // Broadcast the batch dims to the full batch shape (stride 0 where broadcast).
        int lead = batchShape.Length - (rank - 2);
        var bstrides = new int[batchShape.Length];
        for (int i = 0; i < batchShape.Length; i++)
        {
            int src = i - lead;
            bstrides[i] = src < 0 || (x.ShapeArr[src] == 1 && batchShape[i] != 1) ? 0 : x.StridesArr[src];
        }
        bool allZero = bstrides.All(s => s == 0);
        long batchStride = 0;
        bool collapsible = true;
        if (!allZero)
        {
            // Need offset(batch index) = index * stride for the flattened batch.
            int innermost = -1;
            for (int i = batchShape.Length - 1; i >= 0; i--)
            {
                if (batchShape[i] != 1)
                {
                    innermost = i;
                    break;
                }
            }
            batchStride = innermost < 0 ? 0 : bstrides[innermost];
            long expect = batchStride;
            for (int i = innermost; i >= 0; i--)
            {
                if (batchShape[i] == 1)
                    continue;
                if (bstrides[i] != expect)
                {
                    collapsible = false;
                    break;
                }
                expect *= batchShape[i];
            }
            if (batchStride == 0)
                collapsible = false;
        }

        bool rowMajor = (s1 == 1 || c == 1) && (s0 >= c || r == 1);
        bool colMajor = (s0 == 1 || r == 1) && (s1 >= r || c == 1);
        if (collapsible && rowMajor)
            return (false, Math.Max(r == 1 ? c : s0, Math.Max(c, 1)), batchStride, x);
        if (collapsible && colMajor)
            return (true, Math.Max(c == 1 ? r : s1, Math.Max(r, 1)), batchStride, x);

        // Fall back to a contiguous copy: of the tensor itself if that suffices, else materialised
        // over the whole batch (a broadcast pattern no single batch stride can express).
        var copy = x.IsContiguous ? x.Detach().Expand([.. batchShape, r, c]).Clone() : x.Detach().Clone();
        return MatrixLayout(copy, batchShape);
    }
}
