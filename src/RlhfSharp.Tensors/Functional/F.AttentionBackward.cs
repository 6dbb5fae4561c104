using System.Numerics.Tensors;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Backward of <see cref="ScaledDotProductAttention"/> from the saved P and O. Work is split over
    /// (batch, kv head); the query heads sharing a kv head are processed in order by one thread, so
    /// their dK, dV contributions accumulate in a fixed order.
    /// </summary>
    private static Tensor?[] AttentionBackward(float[] dO, Tensor q, Tensor k, Tensor v, float[] p, float[] o,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s, float scale)
    {
        var (bn, hn, hkv, tq, tk, d, dv) = s;
        var dq = q.RequiresGrad ? new float[bn * hn * tq * d] : null;
        var dk = k.RequiresGrad ? new float[bn * hkv * tk * d] : null;
        var dvv = v.RequiresGrad ? new float[bn * hkv * tk * dv] : null;
        if (o.Length > 0 && tk > 0)
        {
            var qm = HeadMatrices.Of(q);
            var km = HeadMatrices.Of(k);
            var vm = HeadMatrices.Of(v);
            int group = hn / hkv;
            Partition.For(bn * hkv, 4L * group * tq * tk * (d + dv), (_, start, end) =>
            {
                var ds = dq is null && dk is null ? null : new float[tq * tk];
                for (int bk = start; bk < end; bk++)
                {
                    int b = bk / hkv, kvh = bk % hkv;
                    for (int h = kvh * group; h < (kvh + 1) * group; h++)
                    {
                        int bh = (b * hn) + h;
                        float beta = h == kvh * group ? 0f : 1f;
                        var ph = p.AsSpan(bh * tq * tk, tq * tk);
                        var doh = dO.AsSpan(bh * tq * dv, tq * dv);
                        // dV = Pᵀ dO (summed over the query heads of this kv head)
                        if (dvv is not null)
                            Gemm.Sgemm(true, false, tk, dv, tq, 1f, ph, tk, doh, dv, beta, dvv.AsSpan(bk * tk * dv, tk * dv), dv);
                        if (ds is null)
                            continue;
                        // dP = dO Vᵀ; dS = P ⊙ (dP − rowsum(dO ⊙ O))
                        Gemm.Sgemm(false, true, tq, tk, dv, 1f, doh, dv, vm.Span(b, kvh), vm.Ld, 0f, ds, tk);
                        for (int i = 0; i < tq; i++)
                        {
                            float delta = TensorPrimitives.Dot(doh.Slice(i * dv, dv), o.AsSpan((bh * tq * dv) + (i * dv), dv));
                            var row = ds.AsSpan(i * tk, tk);
                            TensorPrimitives.Subtract(row, delta, row);
                            TensorPrimitives.Multiply(row, ph.Slice(i * tk, tk), row);
                        }
                        // dQ = scale · dS K; dK = scale · dSᵀ Q
                        if (dq is not null)
                            Gemm.Sgemm(false, false, tq, d, tk, scale, ds, tk, km.Span(b, kvh), km.Ld, 0f, dq.AsSpan(bh * tq * d, tq * d), d);
                        if (dk is not null)
                            Gemm.Sgemm(true, false, tk, d, tq, scale, ds, tk, qm.Span(b, h), qm.Ld, beta, dk.AsSpan(bk * tk * d, tk * d), d);
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
