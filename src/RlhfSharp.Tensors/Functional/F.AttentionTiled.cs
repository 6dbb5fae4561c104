using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;
using static RlhfSharp.Tensors.AttentionKernels;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>Query rows per block in the tiled backward (its dS scratch is this many rows).</summary>
    private const int TiledBackwardRows = 64;

    [ThreadStatic]
    private static float[]? _tiledTransposed;

    [ThreadStatic]
    private static float[]? _tiledRows;

    /// <summary>
    /// <see cref="ScaledDotProductAttention"/> for head dims the tiled kernels take
    /// (<see cref="AttentionKernels.Supports"/>): per (batch, head), K is transposed once into a
    /// [D, Tk8] scratch (Tk8 = Tk rounded up to 8), then every 4 query rows get their scores, their
    /// masked softmax and their output in turn, each block of rows only multiplying the keys it may
    /// see. P is kept with row length Tk8 for the backward. The math and the masking rules are those of
    /// the GEMM path; only the summation order inside a dot product can differ (float rounding).
    /// </summary>
    private static Tensor TiledAttention(Tensor q, Tensor k, Tensor v, bool causal, float[]? mask, float scale,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, bool keep)
    {
        var (bn, hn, _, tq, tk, d, dv) = s;
        int ldp = Pad(tk);
        var o = GradBuffers.RentZeroed(bn * hn * tq * dv);
        var p = keep ? Uninit(bn * hn * tq * ldp) : null;
        if (o.Length > 0 && tk > 0)
        {
            var body = new TiledForward(HeadMatrices.Of(q), HeadMatrices.Of(k), HeadMatrices.Of(v), o, p, ldp, mask, s, scale, causal);
            Partition.For(bn * hn, 2L * tq * tk * (d + dv), in body);
        }
        var result = Tensor.Wrap(o, bn, hn, tq, dv);
        if (p is null)
            return result;
        return Tensor.Record(result, "scaled_dot_product_attention", [q, k, v], g =>
            TiledAttentionBackward(Dense(g), q, k, v, p, ldp, o, s, scale, causal));
    }

    private readonly struct TiledForward(HeadMatrices qm, HeadMatrices km, HeadMatrices vm, float[] o, float[]? p, int ldp, float[]? mask,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, float scale, bool causal) : IPartitionBody
    {
        public unsafe void Run(int chunk, int start, int end)
        {
            var (_, hn, hkv, tq, tk, d, dv) = s;
            int group = hn / hkv;
            var kt = ThreadScratch(ref _tiledTransposed, d * ldp);
            var rows = p is null ? ThreadScratch(ref _tiledRows, TileRows * ldp) : null;
            fixed (float* qd = qm.Data, kd = km.Data, vd = vm.Data, od = o, ktp = kt)
            {
                int transposed = -1;
                for (int bh = start; bh < end; bh++)
                {
                    int b = bh / hn, h = bh % hn, kvh = h / group;
                    // Query heads that share a kv head are adjacent: transpose its K once for them.
                    if ((b * hkv) + kvh != transposed)
                    {
                        Transpose(kd + km.At(b, kvh), km.Ld, tk, d, ktp, ldp);
                        transposed = (b * hkv) + kvh;
                    }
                    float* qh = qd + qm.At(b, h);
                    float* vh = vd + vm.At(b, kvh);
                    for (int i0 = 0; i0 < tq; i0 += TileRows)
                    {
                        int mr = Math.Min(TileRows, tq - i0), cols = VisibleKeys(causal, tq, tk, i0 + mr);
                        var block = p is null ? rows.AsSpan(0, mr * ldp) : p.AsSpan(((bh * tq) + i0) * ldp, mr * ldp);
                        fixed (float* sp = block)
                        {
                            if (cols > 0)
                                RowsTimesMatrix(mr, Pad(cols), d, scale, qh + ((long)i0 * qm.Ld), qm.Ld, ktp, ldp, sp, ldp);
                            for (int r = 0; r < mr; r++)
                                MaskedSoftmaxRow(block.Slice(r * ldp, ldp), VisibleKeys(causal, tq, tk, i0 + r + 1), mask, b * tk);
                            if (cols > 0)
                                RowsTimesMatrix(mr, dv, cols, 1f, sp, ldp, vh, vm.Ld, od + ((long)((bh * tq) + i0) * dv), dv);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="TiledAttention"/> from the saved P (row length <paramref name="ldp"/>) and
    /// O, with the formulas of <see cref="AttentionBackward"/>. Work is split over (batch, kv head);
    /// the query heads sharing a kv head run in order on one thread, so dK and dV accumulate in a fixed
    /// order.
    /// </summary>
    private static Tensor?[] TiledAttentionBackward(float[] dO, Tensor q, Tensor k, Tensor v, float[] p, int ldp, float[] o,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, float scale, bool causal)
    {
        var (bn, hn, hkv, tq, tk, d, dv) = s;
        var dq = q.RequiresGrad ? GradBuffers.RentZeroed(bn * hn * tq * d) : null;
        var dk = k.RequiresGrad ? GradBuffers.RentZeroed(bn * hkv * tk * d) : null;
        var dvv = v.RequiresGrad ? GradBuffers.RentZeroed(bn * hkv * tk * dv) : null;
        if (o.Length > 0 && tk > 0)
        {
            var body = new TiledBackward(dO, HeadMatrices.Of(q), HeadMatrices.Of(k), HeadMatrices.Of(v), p, ldp, o, dq, dk, dvv, s, scale, causal);
            Partition.For(bn * hkv, 4L * (hn / hkv) * tq * tk * (d + dv), in body);
        }
        return
        [
            dq is null ? null : Tensor.Wrap(dq, bn, hn, tq, d),
            dk is null ? null : Tensor.Wrap(dk, bn, hkv, tk, d),
            dvv is null ? null : Tensor.Wrap(dvv, bn, hkv, tk, dv),
        ];
    }

    private readonly struct TiledBackward(float[] dO, HeadMatrices qm, HeadMatrices km, HeadMatrices vm, float[] p, int ldp, float[] o,
        float[]? dq, float[]? dk, float[]? dvv, (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, float scale, bool causal) : IPartitionBody
    {
        public unsafe void Run(int chunk, int start, int end)
        {
            var (_, hn, hkv, tq, tk, d, dv) = s;
            int group = hn / hkv;
            bool needDs = dq is not null || dk is not null;
            var vt = ThreadScratch(ref _tiledTransposed, dv * ldp);
            var ds = ThreadScratch(ref _tiledRows, Math.Min(TiledBackwardRows, tq) * ldp);
            // Fixed on an empty array gives null; the pointers below are only used when their array exists.
            fixed (float* qd = qm.Data, kd = km.Data, vd = vm.Data, pd = p, dOd = dO, dqd = dq, dkd = dk, dvd = dvv, vtp = vt, dsp = ds)
            {
                for (int bk = start; bk < end; bk++)
                {
                    int b = bk / hkv, kvh = bk % hkv;
                    if (needDs)
                        Transpose(vd + vm.At(b, kvh), vm.Ld, tk, dv, vtp, ldp);
                    for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    {
                        int bh = (b * hn) + h;
                        for (int i0 = 0; i0 < tq; i0 += TiledBackwardRows)
                        {
                            int m = Math.Min(TiledBackwardRows, tq - i0), cols = VisibleKeys(causal, tq, tk, i0 + m);
                            if (cols == 0)
                                continue;
                            // Row i0 + r sees key j only when r ≥ j − shift (end-aligned causal rule).
                            int shift = causal ? tk - tq + i0 : int.MaxValue / 2;
                            long row0 = (long)(bh * tq) + i0;
                            float* ph = pd + (row0 * ldp);
                            float* doh = dOd + (row0 * dv);
                            // dV += Pᵀ dO (over the row blocks and the query heads of this kv head, in order)
                            if (dvd is not null)
                                TransposedTimesMatrixAdd(m, cols, dv, 1f, ph, ldp, doh, dv, dvd + ((long)bk * tk * dv), dv, shift);
                            if (!needDs)
                                continue;
                            for (int r0 = 0; r0 < m; r0 += TileRows)
                            {
                                int mr = Math.Min(TileRows, m - r0), seen = VisibleKeys(causal, tq, tk, i0 + r0 + mr);
                                int width = seen == 0 ? 0 : Pad(seen);
                                // dP = dO Vᵀ; dS = P ⊙ (dP − rowsum(dO ⊙ O)); entries past what the rows see are 0
                                if (seen > 0)
                                    RowsTimesMatrix(mr, width, dv, 1f, doh + ((long)r0 * dv), dv, vtp, ldp, dsp + ((long)r0 * ldp), ldp);
                                for (int r = r0; r < r0 + mr; r++)
                                {
                                    var row = ds.AsSpan(r * ldp, ldp);
                                    float delta = TensorPrimitives.Dot(dO.AsSpan((int)((row0 + r) * dv), dv), o.AsSpan((int)((row0 + r) * dv), dv));
                                    TensorPrimitives.Subtract(row[..width], delta, row[..width]);
                                    TensorPrimitives.Multiply(row[..width], p.AsSpan((int)((row0 + r) * ldp), width), row[..width]);
                                    row[width..].Clear();
                                }
                                // dQ = scale · dS K
                                if (dqd is not null && seen > 0)
                                    RowsTimesMatrix(mr, d, seen, scale, dsp + ((long)r0 * ldp), ldp, kd + km.At(b, kvh), km.Ld, dqd + ((row0 + r0) * d), d);
                            }
                            // dK += scale · dSᵀ Q
                            if (dkd is not null)
                                TransposedTimesMatrixAdd(m, cols, d, scale, dsp, ldp, qd + qm.At(b, h) + ((long)i0 * qm.Ld), qm.Ld, dkd + ((long)bk * tk * d), d, shift);
                        }
                    }
                }
            }
        }
    }
}
