using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// softmax(scale·Q Kᵀ + mask) V (Vaswani et al. 2017), fused per (batch, head): scores go to a
    /// [Tq, Tk] block, are masked and softmaxed in place row by row, then multiplied by V; no mask
    /// tensor is built. Grouped-query attention (Ainslie et al. 2023): query head h reads kv head
    /// h / (H / Hkv). Causal masking is aligned to the end: query i sits at absolute position
    /// Tk − Tq + i and sees keys at positions ≤ that (KV-cache decoding). keyPaddingMask (1 = attend,
    /// 0 = pad) hides keys per batch row. A query that may see no key outputs 0.
    /// Kept for backward: the probabilities P [B, H, Tq, Tk] and the output, plus references to q, k, v
    /// (dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = scale·dS K, dK = scale·dSᵀ Q);
    /// under NoGrad, or when no input requires grad, P lives in a per-thread [Tq, Tk] scratch and is
    /// not kept. scale defaults to 1/√D.
    /// q [B, H, Tq, D], k [B, Hkv, Tk, D], v [B, Hkv, Tk, Dv], keyPaddingMask [B, Tk]? -> [B, H, Tq, Dv]
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, bool causal = false, Tensor? keyPaddingMask = null, float? scale = null)
    {
        var (bn, hn, hkv, tq, tk, d, dv) = CheckAttentionShapes(q, k, v, keyPaddingMask);
        float sc = scale ?? 1f / MathF.Sqrt(d);
        if (q.IsOnDevice || k.IsOnDevice || v.IsOnDevice || (keyPaddingMask?.IsOnDevice ?? false))
            return DeviceAttention(q, k, v, causal, keyPaddingMask, sc, (bn, hn, hkv, tq, tk, d, dv));
        var mask = keyPaddingMask?.ToArray();
        bool keep = GradMode.IsEnabled && (q.RequiresGrad || k.RequiresGrad || v.RequiresGrad);
        if (AttentionKernels.Supports(d, dv))
            return TiledAttention(q, k, v, causal, mask, sc, (bn, hn, hkv, tq, tk, d, dv), keep);
        var o = GradBuffers.RentZeroed(bn * hn * tq * dv);
        var p = keep ? Uninit(bn * hn * tq * tk) : null;
        if (o.Length > 0 && tk > 0)
        {
            var qm = HeadMatrices.Of(q);
            var km = HeadMatrices.Of(k);
            var vm = HeadMatrices.Of(v);
            int group = hn / hkv;
            int block = AttentionRowBlock(causal, tq);
            Partition.For(bn * hn, 2L * tq * tk * (d + dv), (_, start, end) =>
            {
                var scratch = p is null ? AttentionScratch(tq * tk) : null;
                for (int bh = start; bh < end; bh++)
                {
                    int b = bh / hn, kvh = bh % hn / group;
                    var s = p is null ? scratch.AsSpan() : p.AsSpan(bh * tq * tk, tq * tk);
                    var qh = qm.Span(b, bh % hn);
                    // Causal: each block of query rows only multiplies the keys it may see.
                    for (int i0 = 0; i0 < tq; i0 += block)
                    {
                        int m = Math.Min(block, tq - i0), cols = VisibleKeys(causal, tq, tk, i0 + m);
                        if (cols > 0)
                            Gemm.Sgemm(false, true, m, cols, d, sc, qh[(i0 * qm.Ld)..], qm.Ld, km.Span(b, kvh), km.Ld, 0f, s[(i0 * tk)..], tk);
                    }
                    MaskedSoftmaxRows(s, tq, tk, causal, mask, b);
                    for (int i0 = 0; i0 < tq; i0 += block)
                    {
                        int m = Math.Min(block, tq - i0), cols = VisibleKeys(causal, tq, tk, i0 + m);
                        if (cols > 0)
                            Gemm.Sgemm(false, false, m, dv, cols, 1f, s[(i0 * tk)..], tk, vm.Span(b, kvh), vm.Ld, 0f, o.AsSpan(((bh * tq) + i0) * dv, m * dv), dv);
                    }
                }
            });
        }
        var result = Tensor.Wrap(o, bn, hn, tq, dv);
        if (p is null)
            return result;
        return Tensor.Record(result, "scaled_dot_product_attention", [q, k, v], g =>
            AttentionBackward(Dense(g), q, k, v, p, o, (bn, hn, hkv, tq, tk, d, dv), sc, causal));
    }

    /// <summary>Rows per causal block: query rows are processed in blocks so masked keys are skipped.</summary>
    internal const int CausalRowBlock = 32;

    [ThreadStatic]
    private static float[]? _attentionScratch;

    // Per-thread scores scratch for one head (or one block of its rows), reused across calls: each
    // use writes every element it reads, and no call on this thread runs inside another.
    private static float[] AttentionScratch(int length) => ThreadScratch(ref _attentionScratch, length);

    // A per-thread scratch array of at least `length` floats, kept in `slot` (a [ThreadStatic] field).
    private static float[] ThreadScratch(ref float[]? slot, int length)
    {
        var s = slot;
        if (s is null || s.Length < length)
            slot = s = new float[length];
        return s;
    }

    private static int AttentionRowBlock(bool causal, int tq) => causal ? CausalRowBlock : Math.Max(tq, 1);

    /// <summary>How many leading keys rows before <paramref name="rowEnd"/> may see (end-aligned causal rule).</summary>
    private static int VisibleKeys(bool causal, int tq, int tk, int rowEnd) => causal ? Math.Clamp(tk - tq + rowEnd, 0, tk) : tk;

    /// <summary>
    /// Row i of the [Tq, Tk] scores: keys past the causal limit Tk − Tq + i or padded are excluded;
    /// the rest are softmaxed in place; excluded entries (and rows with nothing allowed) become 0.
    /// </summary>
    private static void MaskedSoftmaxRows(Span<float> s, int tq, int tk, bool causal, float[]? mask, int b)
    {
        for (int i = 0; i < tq; i++)
            MaskedSoftmaxRow(s.Slice(i * tk, tk), causal ? Math.Clamp(tk - tq + i + 1, 0, tk) : tk, mask, b * (mask is null ? 0 : tk));
    }

    /// <summary>
    /// One row of scores: the first <paramref name="allowed"/> entries (less those whose key mask,
    /// read from <paramref name="mask"/> at <paramref name="maskOffset"/>, is 0) are softmaxed in
    /// place; every other entry of the row, and a row with nothing allowed, becomes 0.
    /// </summary>
    private static void MaskedSoftmaxRow(Span<float> row, int allowed, float[]? mask, int maskOffset)
    {
        row[allowed..].Clear();
        var live = row[..allowed];
        if (mask is not null)
        {
            var m = mask.AsSpan(maskOffset, allowed);
            for (int j = 0; j < allowed; j++)
            {
                if (m[j] == 0f)
                    live[j] = float.NegativeInfinity;
            }
        }
        float max = allowed == 0 ? float.NegativeInfinity : TensorPrimitives.Max(live);
        if (float.IsNegativeInfinity(max))
        {
            live.Clear();
            return;
        }
        RowKernels.ExpShiftScale(live, max, 1f, live);
        TensorPrimitives.Multiply(live, 1f / TensorPrimitives.Sum(live), live);
    }

    private static (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) CheckAttentionShapes(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        const string op = "ScaledDotProductAttention";
        // The message names all three shapes; it is built only when a check fails (this runs per call).
        string Shapes() => $"q {ShapeUtil.Format(q.ShapeArr)}, k {ShapeUtil.Format(k.ShapeArr)}, v {ShapeUtil.Format(v.ShapeArr)}";
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw new ShapeMismatchException(op, $"q, k, v must be [B, H, T, D]; got {Shapes()}");
        int bn = q.ShapeArr[0], hn = q.ShapeArr[1], tq = q.ShapeArr[2], d = q.ShapeArr[3];
        int hkv = k.ShapeArr[1], tk = k.ShapeArr[2];
        if (k.ShapeArr[0] != bn || v.ShapeArr[0] != bn)
            throw new ShapeMismatchException(op, $"batch sizes differ: {Shapes()}");
        if (k.ShapeArr[3] != d)
            throw new ShapeMismatchException(op, $"q and k head dims differ: {Shapes()}");
        if (v.ShapeArr[1] != hkv || v.ShapeArr[2] != tk)
            throw new ShapeMismatchException(op, $"k and v must agree on heads and length: {Shapes()}");
        if (hkv == 0 || hn % hkv != 0)
            throw new ShapeMismatchException(op, $"query heads ({hn}) must be a multiple of key/value heads ({hkv}): {Shapes()}");
        if (mask is not null && (mask.Rank != 2 || mask.ShapeArr[0] != bn || mask.ShapeArr[1] != tk))
            throw new ShapeMismatchException(op, $"keyPaddingMask shape {ShapeUtil.Format(mask.ShapeArr)} must be [B, Tk] = [{bn}, {tk}] for {Shapes()}");
        return (bn, hn, hkv, tq, tk, d, v.ShapeArr[3]);
    }
}
