using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// The element-wise and attention pieces of one decoding step (one new token per sequence), on
/// caller-owned row buffers: each writes into a buffer the caller keeps from step to step, so the
/// decode loop allocates nothing. Parameters and the KV cache are read where they lie (fp32,
/// contiguous, on the CPU). Each matches its <see cref="F"/> counterpart on the same rows.
/// </summary>
public static class DecodeKernels
{
    // Multiply-adds below which attention runs on one thread.
    internal const long ParallelThreshold = 1L << 16;

    [ThreadStatic]
    private static AttentionJob? _job;

    /// <summary>y[r] = table[ids[r]] (+ y[r] when accumulating). table [V, C], ids [M] -> y [M, C]</summary>
    public static void Gather(Tensor table, ReadOnlySpan<int> ids, float[] y, bool accumulate = false)
    {
        var t = Fp32(table, 2, "Gather");
        int v = table.ShapeArr[0], c = table.ShapeArr[1];
        for (int r = 0; r < ids.Length; r++)
        {
            if ((uint)ids[r] >= (uint)v)
                throw new IndexOutOfRangeException($"Gather: id {ids[r]} at row {r} is outside the table's [0, {v})");
            var src = t.Slice(ids[r] * c, c);
            var dst = y.AsSpan(r * c, c);
            if (accumulate)
                TensorPrimitives.Add(dst, src, dst);
            else
                src.CopyTo(dst);
        }
    }

    /// <summary>RMSNorm of each row as <see cref="F.RmsNorm"/>. x [M, C], weight [C] -> y [M, C]</summary>
    public static void RmsNorm(float[] x, int m, Tensor weight, float eps, float[] y)
    {
        var w = Fp32(weight, 1, "RmsNorm");
        int c = w.Length;
        for (int r = 0; r < m; r++)
        {
            var row = x.AsSpan(r * c, c);
            var dst = y.AsSpan(r * c, c);
            float rs = 1f / MathF.Sqrt((TensorPrimitives.SumOfSquares(row) / c) + eps);
            TensorPrimitives.Multiply(row, rs, dst);
            TensorPrimitives.Multiply(dst, w, dst);
        }
    }

    /// <summary>LayerNorm of each row as <see cref="F.LayerNorm"/>. x [M, C], weight, bias [C] -> y [M, C]</summary>
    public static void LayerNorm(float[] x, int m, Tensor weight, Tensor bias, float eps, float[] y)
    {
        var w = Fp32(weight, 1, "LayerNorm");
        var b = Fp32(bias, 1, "LayerNorm");
        int c = w.Length;
        for (int r = 0; r < m; r++)
        {
            var row = x.AsSpan(r * c, c);
            var dst = y.AsSpan(r * c, c);
            float mu = TensorPrimitives.Sum(row) / c;
            TensorPrimitives.Subtract(row, mu, dst);
            float var = TensorPrimitives.SumOfSquares(dst) / c;
            TensorPrimitives.Multiply(dst, 1f / MathF.Sqrt(var + eps), dst);
            TensorPrimitives.Multiply(dst, w, dst);
            TensorPrimitives.Add(dst, b, dst);
        }
    }

    /// <summary>
    /// Rotary embedding in place as <see cref="F.Rope(Tensor, Tensor, RopeCache)"/>: row r's
    /// <paramref name="heads"/> heads (at <paramref name="offset"/> + r·<paramref name="stride"/>) are
    /// rotated for position <c>positions[r]</c>. x rows [M, stride], positions [M]
    /// </summary>
    public static void Rope(float[] x, int offset, int stride, int heads, ReadOnlySpan<int> positions, RopeCache cache)
    {
        int d = cache.HeadDim, half = cache.RotaryDim / 2;
        int needed = 0;
        foreach (var p in positions)
        {
            if ((uint)p >= (uint)cache.MaxPositions)
                throw new IndexOutOfRangeException($"Rope: position {p} is outside the cache's [0, {cache.MaxPositions}); build the RopeCache with a larger maxPositions");
            needed = Math.Max(needed, p + 1);
        }
        var tables = cache.EnsureBuilt(needed);
        for (int r = 0; r < positions.Length; r++)
        {
            var cos = tables.Cos.AsSpan(positions[r] * half, half);
            var sin = tables.Sin.AsSpan(positions[r] * half, half);
            for (int h = 0; h < heads; h++)
            {
                var xs = x.AsSpan(offset + (r * stride) + (h * d), d);
                for (int i = 0; i < half; i++)
                {
                    float x1 = xs[i], x2 = xs[i + half];
                    xs[i] = (x1 * cos[i]) - (x2 * sin[i]);
                    xs[i + half] = (x2 * cos[i]) + (x1 * sin[i]);
                }
            }
        }
    }

    /// <summary>
    /// Writes row r's key or value heads (at <paramref name="offset"/> + r·<paramref name="stride"/>)
    /// into the cache at position <paramref name="position"/>. rows [M, stride] -> cache [M, Hkv, L, D]
    /// </summary>
    public static void WriteCache(float[] rows, int offset, int stride, Tensor cache, int position)
    {
        var c = Fp32(cache, 4, "WriteCache");
        int bn = cache.ShapeArr[0], hkv = cache.ShapeArr[1], len = cache.ShapeArr[2], d = cache.ShapeArr[3];
        if ((uint)position >= (uint)len)
            throw new IndexOutOfRangeException($"WriteCache: position {position} is outside the cache's [0, {len})");
        for (int r = 0; r < bn; r++)
        {
            for (int h = 0; h < hkv; h++)
                rows.AsSpan(offset + (r * stride) + (h * d), d).CopyTo(c.Slice((((r * hkv) + h) * len + position) * d, d));
        }
    }

    /// <summary>
    /// Attention of one new query per row over the first <paramref name="length"/> cached positions,
    /// as <see cref="F.ScaledDotProductAttention"/> with a key padding mask: scores q·k/√D, keys whose
    /// mask is 0 left out, softmax, weighted sum of values; query head h reads key/value head
    /// h / (H / Hkv) (grouped-query). A row with no key to attend gets zeros. q rows at
    /// <paramref name="qOffset"/> + r·<paramref name="qStride"/> hold H heads of D;
    /// keyMask [M, maskStride] (1 = attend; empty = all) -> y [M, H·D]
    /// </summary>
    public static void Attend(float[] q, int qOffset, int qStride, int heads, Tensor keys, Tensor values, int length,
        float[]? keyMask, int maskStride, float[] y, float[] scratch, int maxWidth = 512)
    {
        Fp32(keys, 4, "Attend");
        Fp32(values, 4, "Attend");
        int bn = keys.ShapeArr[0], hkv = keys.ShapeArr[1], cap = keys.ShapeArr[2], d = keys.ShapeArr[3];
        if (length <= 0 || length > cap)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Attend: length must be in [1, {cap}]");
        if (hkv == 0 || heads % hkv != 0)
            throw new ShapeMismatchException("Attend", $"{heads} query heads cannot share {hkv} key/value heads");
        if (scratch.Length < cap)
            throw new ArgumentException($"Attend: scratch must hold at least {cap} scores (one thread's; {cap} per thread for more)");
        // The thread count is read once, and bounded by the scratch: Engine.Threads may have been
        // raised since the caller sized it (another caller of the process set it).
        int threads = Math.Min(Engine.Threads, scratch.Length / cap);
        var job = _job ??= new AttentionJob();
        job.Set(q, qOffset, qStride, heads, keys, values, length, keyMask, maskStride, y, scratch, maxWidth, threads);
        try
        {
            int units = bn * hkv;
            long work = 2L * bn * heads * length * d;
            if (threads <= 1 || work < ParallelThreshold || units < 2)
                job.Body(0, units);
            else
                ParallelFor.RunChunks(units, threads, job.Body);
        }
        finally
        {
            job.Clear();
        }
    }

    /// <summary>y = silu(gate) ⊙ up, the SwiGLU gate (Shazeer 2020). gate, up, y [n]</summary>
    public static void SwiGlu(float[] gate, float[] up, int n, float[] y)
    {
        SiluKernels.Silu(gate.AsSpan(0, n), y.AsSpan(0, n));
        TensorPrimitives.Multiply(y.AsSpan(0, n), up.AsSpan(0, n), y.AsSpan(0, n));
    }

    /// <summary>SiLU in place, as <see cref="Tensor.Silu"/>. x [n]</summary>
    public static void Silu(float[] x, int n) => SiluKernels.Silu(x.AsSpan(0, n), x.AsSpan(0, n));

    /// <summary>ReLU in place, as <see cref="Tensor.Relu"/>. x [n]</summary>
    public static void Relu(float[] x, int n) => TensorPrimitives.Max(x.AsSpan(0, n), 0f, x.AsSpan(0, n));

    /// <summary>x ⊙= y. x, y [n]</summary>
    public static void Multiply(float[] x, float[] y, int n) => TensorPrimitives.Multiply(x.AsSpan(0, n), y.AsSpan(0, n), x.AsSpan(0, n));

    /// <summary>GELU with the tanh approximation in place, as <see cref="Tensor.Gelu"/>. x [n]</summary>
    public static void GeluTanh(float[] x, int n) => SiluKernels.GeluTanh(x.AsSpan(0, n), x.AsSpan(0, n));

    private static Span<float> Fp32(Tensor t, int rank, string op)
    {
        if (t.Rank != rank)
            throw new ShapeMismatchException(op, $"expected a rank-{rank} tensor, got {ShapeUtil.Format(t.ShapeArr)}");
        if (t.Dtype != DType.Float32 || t.IsOnDevice || !t.IsContiguous)
            throw new ArgumentException($"{op}: expected a contiguous float32 tensor on the CPU, got {t.Dtype}{(t.IsOnDevice ? " on a device" : string.Empty)}{(t.IsContiguous ? string.Empty : ", non-contiguous")}");
        return t.Span;
    }

    /// <summary>One (row, key/value head) pair per unit: its query heads attend the cached positions.</summary>
    private sealed class AttentionJob
    {
        private float[] _q = [], _y = [], _scratch = [];
        private float[]? _mask;
        private Tensor? _k, _v;
        private int _qOffset, _qStride, _heads, _length, _maskStride, _maxWidth, _threads;

        public AttentionJob() => Body = Run;

        public Action<int, int> Body { get; }

        public void Set(float[] q, int qOffset, int qStride, int heads, Tensor k, Tensor v, int length, float[]? mask, int maskStride, float[] y, float[] scratch, int maxWidth, int threads) =>
            (_q, _qOffset, _qStride, _heads, _k, _v, _length, _mask, _maskStride, _y, _scratch, _maxWidth, _threads) = (q, qOffset, qStride, heads, k, v, length, mask, maskStride, y, scratch, maxWidth, threads);

        public void Clear()
        {
            (_q, _y, _scratch, _mask, _k, _v) = ([], [], [], null, null, null);
        }

        private void Run(int start, int end)
        {
            var kAll = _k!.Span;
            var vAll = _v!.Span;
            int hkv = _k.ShapeArr[1], cap = _k.ShapeArr[2], d = _k.ShapeArr[3];
            int group = _heads / hkv, len = _length;
            float scale = 1f / MathF.Sqrt(d);
            // Each chunk has its own stretch of scratch (chunk index from its first unit).
            int chunks = ParallelFor.ChunkCount(_k.ShapeArr[0] * hkv, _threads);
            int chunk = 0;
            while (chunk + 1 < chunks && ParallelFor.ChunkStart(_k.ShapeArr[0] * hkv, chunks, chunk + 1) <= start)
                chunk++;
            var s = _scratch.AsSpan(chunk * cap, len);
            for (int u = start; u < end; u++)
            {
                int r = u / hkv, g = u % hkv;
                var kb = kAll.Slice(((r * hkv) + g) * cap * d, len * d);
                var vb = vAll.Slice(((r * hkv) + g) * cap * d, len * d);
                var m = _mask is null ? default : _mask.AsSpan(r * _maskStride, len);
                for (int hh = 0; hh < group; hh++)
                {
                    int h = (g * group) + hh;
                    var qh = _q.AsSpan(_qOffset + (r * _qStride) + (h * d), d);
                    var yh = _y.AsSpan((r * _heads * d) + (h * d), d);
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < len; j++)
                    {
                        if (!m.IsEmpty && m[j] == 0f)
                        {
                            s[j] = float.NegativeInfinity;
                            continue;
                        }
                        float v = Dot(qh, kb.Slice(j * d, d), _maxWidth) * scale;
                        s[j] = v;
                        if (v > max)
                            max = v;
                    }
                    yh.Clear();
                    if (float.IsNegativeInfinity(max))
                        continue;
                    RowKernels.ExpShiftScale(s, max, 1f, s, _maxWidth);
                    float inv = 1f / TensorPrimitives.Sum(s);
                    for (int j = 0; j < len; j++)
                    {
                        if (s[j] != 0f)
                            MultiplyAdd(vb.Slice(j * d, d), s[j] * inv, yh, _maxWidth);
                    }
                }
            }
        }

        private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int maxWidth)
        {
            ref float ar = ref MemoryMarshal.GetReference(a);
            ref float br = ref MemoryMarshal.GetReference(b);
            int n = a.Length, i = 0;
            float sum = 0f;
            if (maxWidth >= 512 && Vector512.IsHardwareAccelerated && n >= 16)
            {
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= n; i += 16)
                    acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i), acc);
                sum = Vector512.Sum(acc);
            }
            else if (maxWidth >= 256 && Vector256.IsHardwareAccelerated && n >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= n; i += 8)
                    acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), acc);
                sum = Vector256.Sum(acc);
            }
            for (; i < n; i++)
                sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
            return sum;
        }

        // y += p · v
        private static void MultiplyAdd(ReadOnlySpan<float> v, float p, Span<float> y, int maxWidth)
        {
            ref float vr = ref MemoryMarshal.GetReference(v);
            ref float yr = ref MemoryMarshal.GetReference(y);
            int n = v.Length, i = 0;
            if (maxWidth >= 512 && Vector512.IsHardwareAccelerated)
            {
                var pv = Vector512.Create(p);
                for (; i + 16 <= n; i += 16)
                    Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref vr, (nuint)i), pv, Vector512.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }
            if (maxWidth >= 256 && Vector256.IsHardwareAccelerated)
            {
                var pv = Vector256.Create(p);
                for (; i + 8 <= n; i += 8)
                    Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vr, (nuint)i), pv, Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }
            for (; i < n; i++)
                y[i] = MathF.FusedMultiplyAdd(v[i], p, y[i]);
        }
    }
}
