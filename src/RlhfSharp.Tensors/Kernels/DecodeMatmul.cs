using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// y = x·Wᵀ (+ bias) for the few rows of one decoding step (one new token per sequence), reading the
/// weight W [N, K] where it lies, as torch.nn.Linear stores it: no packing, no transposed copy, no
/// allocation. Each weight row is loaded once per group of four input rows and dotted with all of
/// them, so the weights stream through the cache once per step; output columns are split across
/// threads only when the product is large enough to pay for the hand-off.
/// </summary>
public static class DecodeMatmul
{
    // Multiply-adds below which one thread does the whole product (a hand-off costs a few µs).
    internal const long ParallelThreshold = 1L << 18;

    [ThreadStatic]
    private static Job? _job;

    /// <summary>
    /// x [M, K] (row-major, first M·K values), weight [N, K] fp32 contiguous, bias [N]? ->
    /// y [M, N] (first M·N values); with <paramref name="accumulate"/> the product is added to y
    /// (a fused residual add) instead of overwriting it.
    /// </summary>
    public static void Forward(float[] x, int m, Tensor weight, Tensor? bias, float[] y, bool accumulate = false, int maxWidth = 512)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(y);
        if (weight.Rank != 2)
            throw new ShapeMismatchException("DecodeMatmul", $"weight must be [N, K], got {ShapeUtil.Format(weight.ShapeArr)}");
        int n = weight.ShapeArr[0], k = weight.ShapeArr[1];
        if (m < 0 || x.Length < (long)m * k || y.Length < (long)m * n)
            throw new ShapeMismatchException("DecodeMatmul", $"x holds {x.Length} values and y {y.Length} for [{m}, {k}] · [{n}, {k}]ᵀ");
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArr[0] != n))
            throw new ShapeMismatchException("DecodeMatmul", $"bias must be [{n}], got {ShapeUtil.Format(bias.ShapeArr)}");
        var w = weight.Span;
        var b = bias is null ? default : bias.Span;
        int threads = Engine.Threads;
        long work = (long)m * n * k;
        if (threads <= 1 || work < ParallelThreshold || n < 2 * threads)
        {
            Columns(x, m, k, w, b, y, n, 0, n, accumulate, maxWidth);
            return;
        }
        var job = _job ??= new Job();
        job.Set(x, m, k, weight, bias, y, n, accumulate, maxWidth);
        try
        {
            ParallelFor.RunChunks(n, threads, job.Body);
        }
        finally
        {
            job.Clear();
        }
    }

    /// <summary>Output columns [n0, n1) of y = x·Wᵀ (+ b).</summary>
    internal static void Columns(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int n0, int n1, bool accumulate, int maxWidth)
    {
        Span<float> dots = stackalloc float[8];
        int j = n0;
        for (; j + 1 < n1; j += 2)
        {
            var w0 = w.Slice(j * k, k);
            var w1 = w.Slice((j + 1) * k, k);
            int r = 0;
            for (; r + 3 < m; r += 4)
            {
                Dot4x2(x.Slice(r * k, 4 * k), k, w0, w1, dots, maxWidth);
                for (int i = 0; i < 4; i++)
                {
                    Store(y, ((r + i) * n) + j, dots[2 * i], b.IsEmpty ? 0f : b[j], accumulate);
                    Store(y, ((r + i) * n) + j + 1, dots[(2 * i) + 1], b.IsEmpty ? 0f : b[j + 1], accumulate);
                }
            }
            for (; r < m; r++)
            {
                var xr = x.Slice(r * k, k);
                Store(y, (r * n) + j, Dot(xr, w0, maxWidth), b.IsEmpty ? 0f : b[j], accumulate);
                Store(y, (r * n) + j + 1, Dot(xr, w1, maxWidth), b.IsEmpty ? 0f : b[j + 1], accumulate);
            }
        }
        for (; j < n1; j++)
        {
            var w0 = w.Slice(j * k, k);
            for (int r = 0; r < m; r++)
                Store(y, (r * n) + j, Dot(x.Slice(r * k, k), w0, maxWidth), b.IsEmpty ? 0f : b[j], accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Span<float> y, int i, float dot, float bias, bool accumulate) =>
        y[i] = accumulate ? y[i] + (dot + bias) : dot + bias;

    // dots[2i + c] = x_i · w_c for the four rows x_0..x_3 (consecutive, each k long) and two weight rows.
    private static void Dot4x2(ReadOnlySpan<float> x, int k, ReadOnlySpan<float> w0, ReadOnlySpan<float> w1, Span<float> dots, int maxWidth)
    {
        ref float xr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float a = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w0);
        ref float c = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w1);
        int i = 0;
        if (maxWidth >= 512 && Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            for (; i + 16 <= k; i += 16)
            {
                var va = Vector512.LoadUnsafe(ref a, (nuint)i);
                var vc = Vector512.LoadUnsafe(ref c, (nuint)i);
                var x0 = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var x1 = Vector512.LoadUnsafe(ref xr, (nuint)(k + i));
                var x2 = Vector512.LoadUnsafe(ref xr, (nuint)((2 * k) + i));
                var x3 = Vector512.LoadUnsafe(ref xr, (nuint)((3 * k) + i));
                s00 = Vector512.FusedMultiplyAdd(x0, va, s00);
                s01 = Vector512.FusedMultiplyAdd(x0, vc, s01);
                s10 = Vector512.FusedMultiplyAdd(x1, va, s10);
                s11 = Vector512.FusedMultiplyAdd(x1, vc, s11);
                s20 = Vector512.FusedMultiplyAdd(x2, va, s20);
                s21 = Vector512.FusedMultiplyAdd(x2, vc, s21);
                s30 = Vector512.FusedMultiplyAdd(x3, va, s30);
                s31 = Vector512.FusedMultiplyAdd(x3, vc, s31);
            }
            dots[0] = Vector512.Sum(s00);
            dots[1] = Vector512.Sum(s01);
            dots[2] = Vector512.Sum(s10);
            dots[3] = Vector512.Sum(s11);
            dots[4] = Vector512.Sum(s20);
            dots[5] = Vector512.Sum(s21);
            dots[6] = Vector512.Sum(s30);
            dots[7] = Vector512.Sum(s31);
        }
        else if (maxWidth >= 256 && Vector256.IsHardwareAccelerated && k >= 8)
        {
            Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            for (; i + 8 <= k; i += 8)
            {
                var va = Vector256.LoadUnsafe(ref a, (nuint)i);
                var vc = Vector256.LoadUnsafe(ref c, (nuint)i);
                var x0 = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var x1 = Vector256.LoadUnsafe(ref xr, (nuint)(k + i));
                var x2 = Vector256.LoadUnsafe(ref xr, (nuint)((2 * k) + i));
                var x3 = Vector256.LoadUnsafe(ref xr, (nuint)((3 * k) + i));
                s00 = Vector256.FusedMultiplyAdd(x0, va, s00);
                s01 = Vector256.FusedMultiplyAdd(x0, vc, s01);
                s10 = Vector256.FusedMultiplyAdd(x1, va, s10);
                s11 = Vector256.FusedMultiplyAdd(x1, vc, s11);
                s20 = Vector256.FusedMultiplyAdd(x2, va, s20);
                s21 = Vector256.FusedMultiplyAdd(x2, vc, s21);
                s30 = Vector256.FusedMultiplyAdd(x3, va, s30);
                s31 = Vector256.FusedMultiplyAdd(x3, vc, s31);
            }
            dots[0] = Vector256.Sum(s00);
            dots[1] = Vector256.Sum(s01);
            dots[2] = Vector256.Sum(s10);
            dots[3] = Vector256.Sum(s11);
            dots[4] = Vector256.Sum(s20);
            dots[5] = Vector256.Sum(s21);
            dots[6] = Vector256.Sum(s30);
            dots[7] = Vector256.Sum(s31);
        }
        else
        {
            dots.Clear();
        }
        for (; i < k; i++)
        {
            float wa = w0[i], wc = w1[i];
            for (int r = 0; r < 4; r++)
            {
                float xv = x[(r * k) + i];
                dots[2 * r] += xv * wa;
                dots[(2 * r) + 1] += xv * wc;
            }
        }
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> w, int maxWidth)
    {
        ref float xr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref float wr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
        int k = x.Length, i = 0;
        float s = 0f;
        if (maxWidth >= 512 && Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> acc = default;
            for (; i + 16 <= k; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref wr, (nuint)i), acc);
            s = Vector512.Sum(acc);
        }
        else if (maxWidth >= 256 && Vector256.IsHardwareAccelerated && k >= 8)
        {
            Vector256<float> acc = default;
            for (; i + 8 <= k; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref wr, (nuint)i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < k; i++)
            s += x[i] * w[i];
        return s;
    }

    /// <summary>The arguments of one parallel product, kept per calling thread so a step allocates no closure.</summary>
    private sealed class Job
    {
        private float[] _x = [];
        private float[] _y = [];
        private Tensor? _w;
        private Tensor? _b;
        private int _m, _k, _n, _maxWidth;
        private bool _accumulate;

        public Job() => Body = Run;

        public Action<int, int> Body { get; }

        public void Set(float[] x, int m, int k, Tensor w, Tensor? b, float[] y, int n, bool accumulate, int maxWidth)
        {
            (_x, _m, _k, _w, _b, _y, _n, _accumulate, _maxWidth) = (x, m, k, w, b, y, n, accumulate, maxWidth);
        }

        public void Clear()
        {
            _x = [];
            _y = [];
            _w = null;
            _b = null;
        }

        private void Run(int start, int end) =>
            Columns(_x, _m, _k, _w!.Span, _b is null ? default : _b.Span, _y, _n, start, end, _accumulate, _maxWidth);
    }
}
