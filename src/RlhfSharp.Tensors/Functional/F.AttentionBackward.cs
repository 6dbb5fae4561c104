using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Backward of <see cref="ScaledDotProductAttention"/> from the saved P and O. Work is split over
    /// (batch, kv head); the query heads sharing a kv head are processed in order by one thread, so
    /// their dK, dV contributions accumulate in a fixed order. Scratch: one [rows per block, Tk] dS.
    /// </summary>
    private static Tensor?[] AttentionBackward(float[] dO, Tensor q, Tensor k, Tensor v, float[] p, float[] o,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, float scale, bool causal)
    {
        var (bn, hn, hkv, tq, tk, d, dv) = s;
        var dq = q.RequiresGrad ? GradBuffers.RentZeroed(bn * hn * tq * d) : null;
        var dk = k.RequiresGrad ? GradBuffers.RentZeroed(bn * hkv * tk * d) : null;
        var dvv = v.RequiresGrad ? GradBuffers.RentZeroed(bn * hkv * tk * dv) : null;
        if (o.Length > 0 && tk > 0)
        {
            var qm = HeadMatrices.Of(q);
            var km = HeadMatrices.Of(k);
            var vm = HeadMatrices.Of(v);
            int group = hn / hkv;
            int block = AttentionRowBlock(causal, tq);
            Partition.For(bn * hkv, 4L * group * tq * tk * (d + dv), (_, start, end) =>
            {
                var ds = dq is null && dk is null ? null : AttentionScratch(block * tk);
                for (int bk = start; bk < end; bk++)
                {
                    int b = bk / hkv, kvh = bk % hkv;
                    for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    {
                        int bh = (b * hn) + h;
                        var qh = qm.Span(b, h);
                        // Row blocks as in the forward; each block touches only the keys it sees.
                        for (int i0 = 0; i0 < tq; i0 += block)
                        {
                            int m = Math.Min(block, tq - i0), cols = VisibleKeys(causal, tq, tk, i0 + m);
                            if (cols == 0)
                                continue;
                            var ph = p.AsSpan(((bh * tq) + i0) * tk);
                            var doh = dO.AsSpan(((bh * tq) + i0) * dv, m * dv);
                            // dV += Pᵀ dO (accumulated over row blocks and the query heads of this kv head)
                            if (dvv is not null)
                                Gemm.Sgemm(true, false, cols, dv, m, 1f, ph, tk, doh, dv, 1f, dvv.AsSpan(bk * tk * dv, cols * dv), dv);
                            if (ds is null)
                                continue;
                            // dP = dO Vᵀ; dS = P ⊙ (dP − rowsum(dO ⊙ O))
                            Gemm.Sgemm(false, true, m, cols, dv, 1f, doh, dv, vm.Span(b, kvh), vm.Ld, 0f, ds, tk);
                            for (int i = 0; i < m; i++)
                            {
                                float delta = TensorPrimitives.Dot(doh.Slice(i * dv, dv), o.AsSpan(((bh * tq) + i0 + i) * dv, dv));
                                var row = ds.AsSpan(i * tk, cols);
                                TensorPrimitives.Subtract(row, delta, row);
                                TensorPrimitives.Multiply(row, ph.Slice(i * tk, cols), row);
                            }
                            // dQ = scale · dS K; dK += scale · dSᵀ Q
                            if (dq is not null)
                                Gemm.Sgemm(false, false, m, d, cols, scale, ds, tk, km.Span(b, kvh), km.Ld, 0f, dq.AsSpan(((bh * tq) + i0) * d, m * d), d);
                            if (dk is not null)
                                Gemm.Sgemm(true, false, cols, d, m, scale, ds, tk, qh[(i0 * qm.Ld)..], qm.Ld, 1f, dk.AsSpan(bk * tk * d, cols * d), d);
                        }
                    }
                }
            });
        }
        return
        [
            dq is null ? null : Tensor.Wrap(dq, bn, hn, tq, d),
            dk is null ? null : Tensor.Wrap(dk, bn, hkv, tk, d),
            dvv is null ? null : Tensor.Wrap(dvv, bn, hkv, tk, dv),
        ];
    }
}
