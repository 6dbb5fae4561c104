using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// A Linear weight W [N, K] copied once into column panels for the few-row products of decoding:
/// panel p holds Wᵀ's columns [32p, 32p + 32) as [K, 32] (the last padded with zeros), so a step
/// streams the panels front to back and keeps a tile of rows × 32 outputs in registers, one
/// broadcast of x per weight vector and no horizontal sums. Built per generation call (the weights
/// do not change while it decodes); <see cref="DecodeMatmul"/> is the copy-free alternative.
/// </summary>
public sealed class DecodePackedWeight
{
    /// <summary>Output columns per panel.</summary>
    public const int PanelWidth = 32;

    private readonly float[] _panels;
    private readonly float[]? _bias;

    [ThreadStatic]
    private static Job? _job;

    /// <summary>Packs weight [N, K] (any dtype, on the CPU) and bias [N]?.</summary>
    public DecodePackedWeight(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ShapeMismatchException("DecodePackedWeight", $"weight must be [N, K], got {ShapeUtil.Format(weight.ShapeArr)}");
        N = weight.ShapeArr[0];
        K = weight.ShapeArr[1];
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArr[0] != N))
            throw new ShapeMismatchException("DecodePackedWeight", $"bias must be [{N}], got {ShapeUtil.Format(bias.ShapeArr)}");
        _panels = new float[(N + PanelWidth - 1) / PanelWidth * K * PanelWidth];
        _bias = bias is null ? null : new float[N];
        Refresh(weight, bias);
    }

    /// <summary>
    /// Copies the current values of weight [N, K] and bias [N]? (the same shapes, and a bias exactly
    /// when there was one) into the panels, so a packing can be kept from one generation call to the
    /// next while the weights are trained in between.
    /// </summary>
    public void Refresh(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || weight.ShapeArr[0] != N || weight.ShapeArr[1] != K || (bias is null) != (_bias is null) || (bias is not null && bias.Numel != N))
            throw new ShapeMismatchException("DecodePackedWeight", $"packed for [{N}, {K}]{(_bias is null ? string.Empty : " with a bias")}, refreshed from {ShapeUtil.Format(weight.ShapeArr)}{(bias is null ? string.Empty : " with a bias")}");
        var w = weight.Dtype == DType.Float32 && !weight.IsOnDevice && weight.IsContiguous ? weight.Span : weight.Float().Contiguous().Span;
        for (int n = 0; n < N; n++)
        {
            var row = w.Slice(n * K, K);
            int baseIdx = (n / PanelWidth * K * PanelWidth) + (n % PanelWidth);
            for (int k = 0; k < K; k++)
                _panels[baseIdx + (k * PanelWidth)] = row[k];
        }
        if (bias is not null)
            bias.CopyTo(_bias);
    }

    public int N { get; }

    public int K { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool HasBias => _bias is not null;

    /// <summary>
    /// x [M, K] (first M·K values) -> y [M, N] = x·Wᵀ (+ bias); with <paramref name="accumulate"/>
    /// the product is added to y (a fused residual add).
    /// </summary>
    public void Forward(float[] x, int m, float[] y, bool accumulate = false, int maxWidth = 512)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (m < 0 || x.Length < (long)m * K || y.Length < (long)m * N)
            throw new ShapeMismatchException("DecodePackedWeight", $"x holds {x.Length} values and y {y.Length} for [{m}, {K}] · [{N}, {K}]ᵀ");
        int panels = (N + PanelWidth - 1) / PanelWidth;
        int threads = Engine.Threads;
        if (threads <= 1 || (long)m * N * K < DecodeMatmul.ParallelThreshold || panels < 2)
        {
            Panels(x, m, y, 0, panels, accumulate, maxWidth);
            return;
        }
        var job = _job ??= new Job();
        job.Set(this, x, m, y, accumulate, maxWidth);
        try
        {
            ParallelFor.RunChunks(panels, threads, job.Body);
        }
        finally
        {
            job.Clear();
        }
    }

    private void Panels(float[] x, int m, float[] y, int p0, int p1, bool accumulate, int maxWidth)
    {
        Span<float> tile = stackalloc float[8 * PanelWidth];
        int rowsPerTile = maxWidth >= 512 && Vector512.IsHardwareAccelerated ? 8 : 4;
        for (int p = p0; p < p1; p++)
        {
            var panel = _panels.AsSpan(p * K * PanelWidth, K * PanelWidth);
            int c0 = p * PanelWidth, cols = Math.Min(PanelWidth, N - c0);
            for (int r0 = 0; r0 < m; r0 += rowsPerTile)
            {
                int rows = Math.Min(rowsPerTile, m - r0);
                Tile(x.AsSpan(r0 * K, rows * K), rows, panel, tile, maxWidth);
                for (int r = 0; r < rows; r++)
                {
                    var dst = y.AsSpan(((r0 + r) * N) + c0, cols);
                    var src = tile.Slice(r * PanelWidth, cols);
                    for (int c = 0; c < cols; c++)
                    {
                        float v = src[c] + (_bias is null ? 0f : _bias[c0 + c]);
                        dst[c] = accumulate ? dst[c] + v : v;
                    }
                }
            }
        }
    }

    // tile [rows, 32] = x [rows, K] · panel [K, 32]; rows ≤ 8 (≤ 4 below 512-bit vectors).
    private void Tile(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> panel, Span<float> tile, int maxWidth)
    {
        int k = K;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float pr = ref MemoryMarshal.GetReference(panel);
        ref float tr = ref MemoryMarshal.GetReference(tile);
        if (maxWidth >= 512 && Vector512.IsHardwareAccelerated)
        {
            // Rows past `rows` read row 0 again (always present) and are not stored.
            Span<int> ro = stackalloc int[8];
            for (int r = 0; r < 8; r++)
                ro[r] = (r < rows ? r : 0) * k;
            int o0 = ro[0], o1 = ro[1], o2 = ro[2], o3 = ro[3], o4 = ro[4], o5 = ro[5], o6 = ro[6], o7 = ro[7];
            Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            Vector512<float> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
            for (int i = 0; i < k; i++)
            {
                var w0 = Vector512.LoadUnsafe(ref pr, (nuint)(i * PanelWidth));
                var w1 = Vector512.LoadUnsafe(ref pr, (nuint)((i * PanelWidth) + 16));
                var x0 = Vector512.Create(Unsafe.Add(ref xr, o0 + i));
                a0 = Vector512.FusedMultiplyAdd(x0, w0, a0);
                b0 = Vector512.FusedMultiplyAdd(x0, w1, b0);
                var x1 = Vector512.Create(Unsafe.Add(ref xr, o1 + i));
                a1 = Vector512.FusedMultiplyAdd(x1, w0, a1);
                b1 = Vector512.FusedMultiplyAdd(x1, w1, b1);
                var x2 = Vector512.Create(Unsafe.Add(ref xr, o2 + i));
                a2 = Vector512.FusedMultiplyAdd(x2, w0, a2);
                b2 = Vector512.FusedMultiplyAdd(x2, w1, b2);
                var x3 = Vector512.Create(Unsafe.Add(ref xr, o3 + i));
                a3 = Vector512.FusedMultiplyAdd(x3, w0, a3);
                b3 = Vector512.FusedMultiplyAdd(x3, w1, b3);
                var x4 = Vector512.Create(Unsafe.Add(ref xr, o4 + i));
                a4 = Vector512.FusedMultiplyAdd(x4, w0, a4);
                b4 = Vector512.FusedMultiplyAdd(x4, w1, b4);
                var x5 = Vector512.Create(Unsafe.Add(ref xr, o5 + i));
                a5 = Vector512.FusedMultiplyAdd(x5, w0, a5);
                b5 = Vector512.FusedMultiplyAdd(x5, w1, b5);
                var x6 = Vector512.Create(Unsafe.Add(ref xr, o6 + i));
                a6 = Vector512.FusedMultiplyAdd(x6, w0, a6);
                b6 = Vector512.FusedMultiplyAdd(x6, w1, b6);
                var x7 = Vector512.Create(Unsafe.Add(ref xr, o7 + i));
                a7 = Vector512.FusedMultiplyAdd(x7, w0, a7);
                b7 = Vector512.FusedMultiplyAdd(x7, w1, b7);
            }
            a0.StoreUnsafe(ref tr, 0);
            b0.StoreUnsafe(ref tr, 16);
            a1.StoreUnsafe(ref tr, 32);
            b1.StoreUnsafe(ref tr, 48);
            a2.StoreUnsafe(ref tr, 64);
            b2.StoreUnsafe(ref tr, 80);
            a3.StoreUnsafe(ref tr, 96);
            b3.StoreUnsafe(ref tr, 112);
            a4.StoreUnsafe(ref tr, 128);
            b4.StoreUnsafe(ref tr, 144);
            a5.StoreUnsafe(ref tr, 160);
            b5.StoreUnsafe(ref tr, 176);
            a6.StoreUnsafe(ref tr, 192);
            b6.StoreUnsafe(ref tr, 208);
            a7.StoreUnsafe(ref tr, 224);
            b7.StoreUnsafe(ref tr, 240);
            return;
        }
        if (maxWidth >= 256 && Vector256.IsHardwareAccelerated)
        {
            for (int r = 0; r < rows; r++)
            {
                int o = r * k;
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int i = 0; i < k; i++)
                {
                    var xv = Vector256.Create(Unsafe.Add(ref xr, o + i));
                    int wi = i * PanelWidth;
                    s0 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref pr, (nuint)wi), s0);
                    s1 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref pr, (nuint)(wi + 8)), s1);
                    s2 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref pr, (nuint)(wi + 16)), s2);
                    s3 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref pr, (nuint)(wi + 24)), s3);
                }
                int t = r * PanelWidth;
                s0.StoreUnsafe(ref tr, (nuint)t);
                s1.StoreUnsafe(ref tr, (nuint)(t + 8));
                s2.StoreUnsafe(ref tr, (nuint)(t + 16));
                s3.StoreUnsafe(ref tr, (nuint)(t + 24));
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var acc = tile.Slice(r * PanelWidth, PanelWidth);
            acc.Clear();
            for (int i = 0; i < k; i++)
            {
                float xv = x[(r * k) + i];
                var wrow = panel.Slice(i * PanelWidth, PanelWidth);
                for (int c = 0; c < PanelWidth; c++)
                    acc[c] = MathF.FusedMultiplyAdd(xv, wrow[c], acc[c]);
            }
        }
    }

    /// <summary>The arguments of one parallel product, kept per calling thread so a step allocates no closure.</summary>
    private sealed class Job
    {
        private DecodePackedWeight? _w;
        private float[] _x = [], _y = [];
        private int _m, _maxWidth;
        private bool _accumulate;

        public Job() => Body = Run;

        public Action<int, int> Body { get; }

        public void Set(DecodePackedWeight w, float[] x, int m, float[] y, bool accumulate, int maxWidth) =>
            (_w, _x, _m, _y, _accumulate, _maxWidth) = (w, x, m, y, accumulate, maxWidth);

        public void Clear() => (_w, _x, _y) = (null, [], []);

        private void Run(int start, int end) => _w!.Panels(_x, _m, _y, start, end, _accumulate, _maxWidth);
    }
}
