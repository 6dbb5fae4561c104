using ILGPU;
using ILGPU.Runtime;
using RlhfSharp.Tensors.Gpu.Kernels;

namespace RlhfSharp.Tensors.Gpu;

/// <summary>
/// The GPU engine: the <see cref="DeviceBackend"/> of one <see cref="GpuDevice"/>, which owns the
/// device buffers of its tensors and runs ILGPU kernels on them. <see cref="Use(Device)"/> sets it
/// up for a device once per process.
/// </summary>
public sealed partial class GpuEngine : DeviceBackend
{
    private readonly Device _device;

    private GpuEngine(GpuDevice gpu, Device device)
    {
        Gpu = gpu;
        _device = device;
    }

    public GpuDevice Gpu { get; }

    public override Device Device => _device;

    public override string Name => Gpu.Name;

    /// <summary>
    /// The engine of <paramref name="device"/> in this process, set up on first use: cuda:N, or the
    /// CPU accelerator. Throws <see cref="GpuUnavailableException"/> naming what is missing.
    /// </summary>
    public static GpuEngine Use(Device device)
    {
        lock (typeof(GpuEngine))
        {
            if (IsRegistered(device))
                return (GpuEngine)For(device);
            var gpu = device.Kind switch
            {
                DeviceKind.Cuda => GpuDevice.Cuda(device.Ordinal),
                DeviceKind.CpuAccelerator => GpuDevice.CpuAccelerator(),
                _ => throw new ArgumentException("the CPU engine needs no GPU engine; use a cuda or cpu-accelerator device", nameof(device)),
            };
            var engine = new GpuEngine(gpu, device);
            Register(engine);
            return engine;
        }
    }

    /// <summary><see cref="Use(Device)"/> by name ("cuda:0", "cpu-accelerator").</summary>
    public static GpuEngine Use(string device) => Use(Tensors.Device.Parse(device));

    // ---- launching ------------------------------------------------------------------------

    /// <summary>How many threads a grid-strided launch over <paramref name="n"/> items uses.</summary>
    private int Threads(int n) => Math.Max(1, Math.Min(n, Gpu.IsCuda ? 132 * 2048 : 64));

    /// <summary>
    /// Threads per group of a row kernel: 256 on a GPU; on the CPU accelerator, one warp (its
    /// group-wide reductions need at least a warp, and every thread there is a host thread meeting
    /// the others at each barrier) unless a test asks for more (<see cref="CpuAcceleratorGroupSize"/>).
    /// </summary>
    private int GroupSize => Gpu.IsCuda
        ? 256
        : Math.Min(Math.Max(CpuAcceleratorGroupSize ?? Gpu.Accelerator.WarpSize, Gpu.Accelerator.WarpSize), Gpu.Accelerator.MaxNumThreadsPerGroup);

    /// <summary>Threads per row group on the CPU accelerator (one warp when null; see <see cref="GroupSize"/>).</summary>
    internal int? CpuAcceleratorGroupSize { get; set; }

    /// <summary>One group per row, the rows grid-strided over at most a few waves of groups.</summary>
    private KernelConfig RowGroups(int rows) =>
        new(Math.Max(1, Math.Min(rows, Gpu.IsCuda ? 132 * 16 : Math.Max(1, Gpu.Accelerator.MaxNumThreads / GroupSize))), GroupSize);

    private Action<Index1D, int, int, T1> K<T1>(string key, Action<Index1D, int, int, T1> kernel)
        where T1 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    private Action<Index1D, int, int, T1, T2> K<T1, T2>(string key, Action<Index1D, int, int, T1, T2> kernel)
        where T1 : struct where T2 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    private Action<Index1D, int, int, T1, T2, T3> K<T1, T2, T3>(string key, Action<Index1D, int, int, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    private Action<Index1D, int, int, T1, T2, T3, T4> K<T1, T2, T3, T4>(string key, Action<Index1D, int, int, T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    private Action<Index1D, int, int, T1, T2, T3, T4, T5> K<T1, T2, T3, T4, T5>(string key, Action<Index1D, int, int, T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    private Action<Index1D, int, int, T1, T2, T3, T4, T5, T6> K<T1, T2, T3, T4, T5, T6>(string key, Action<Index1D, int, int, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => Gpu.Kernel(key, a => a.LoadAutoGroupedStreamKernel(kernel));

    // ---- storage ----------------------------------------------------------------------------

    // Device buffers are freed when their tensors are collected (ILGPU's finalizers), but the
    // collector sees only small managed objects. So after a quarter of the device's memory has been
    // allocated, and before giving up on an allocation that fails, the engine collects and waits
    // for the finalizers that free device memory.
    private long _allocatedSinceCollect;

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long n)
        where T : unmanaged
    {
        long bytes = n * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        _allocatedSinceCollect += bytes;
        if (_allocatedSinceCollect > Math.Max(Gpu.Accelerator.MemorySize / 4, 1L << 28))
            Reclaim();
        try
        {
            return Gpu.Accelerator.Allocate1D<T>(n);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            Reclaim();
            return Gpu.Accelerator.Allocate1D<T>(n);
        }
    }

    private void Reclaim()
    {
        _allocatedSinceCollect = 0;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private Tensor NewFloat(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Allocate<float>(Math.Max(n, 1));
        return new Tensor(new GpuStorage<float>(this, DType.Float32, buffer), shape);
    }

    private Tensor NewInt(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Allocate<int>(Math.Max(n, 1));
        return new Tensor(new GpuStorage<int>(this, DType.Int32, buffer), shape);
    }

    private Tensor NewHalf(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Allocate<ushort>(Math.Max(n, 1));
        return new Tensor(new GpuStorage<ushort>(this, DType.BFloat16, buffer), shape);
    }

    private ArrayView<float> F(Tensor t) => t.G is GpuStorage<float> s && s.Backend == this
        ? s.View
        : throw new DeviceMismatchException($"internal: expected a float32 tensor on {Device}, got {t.Dtype} on {t.Device}");

    private ArrayView<int> I(Tensor t) => t.G is GpuStorage<int> s && s.Backend == this
        ? s.View
        : throw new DeviceMismatchException($"internal: expected an int32 tensor on {Device}, got {t.Dtype} on {t.Device}");

    private ArrayView<ushort> H(Tensor t) => t.G is GpuStorage<ushort> s && s.Backend == this
        ? s.View
        : throw new DeviceMismatchException($"internal: expected a bf16 tensor on {Device}, got {t.Dtype} on {t.Device}");

    internal override Tensor Upload(Tensor host)
    {
        var shape = (int[])host.ShapeArr.Clone();
        int n = host.Numel;
        Tensor result;
        switch (host.Dtype)
        {
            case DType.Float32:
                result = NewFloat(shape);
                if (n > 0)
                    F(result).SubView(0, n).CopyFromCPU(host.Span.ToArray());
                break;
            case DType.Int32:
                result = NewInt(shape);
                if (n > 0)
                    I(result).SubView(0, n).CopyFromCPU(host.IntSpan.ToArray());
                break;
            case DType.BFloat16:
                result = NewHalf(shape);
                if (n > 0)
                    H(result).SubView(0, n).CopyFromCPU(host.HalfSpan.ToArray());
                break;
            default:
                throw new DeviceMismatchException($"To({Device}): {host.Dtype} tensors stay on the host (float64 holds statistics); use Float() first");
        }
        DeviceTransfers.CountToDevice();
        return result;
    }

    internal override Tensor Download(Tensor x)
    {
        var c = x.IsContiguous ? x : Copy(x);
        int n = c.Numel;
        var shape = (int[])x.ShapeArr.Clone();
        Gpu.Accelerator.Synchronize();
        Tensor result;
        switch (c.Dtype)
        {
            case DType.Float32:
                var f = new float[n];
                if (n > 0)
                    F(c).SubView(c.Offset, n).CopyToCPU(f);
                result = Tensor.WrapArray(f, shape);
                break;
            case DType.Int32:
                var ints = new int[n];
                if (n > 0)
                    I(c).SubView(c.Offset, n).CopyToCPU(ints);
                result = Tensor.FromArray(ints, shape);
                break;
            default:
                var h = new ushort[n];
                if (n > 0)
                    H(c).SubView(c.Offset, n).CopyToCPU(h);
                result = Tensor.FromBFloat16Bits(h, shape);
                break;
        }
        DeviceTransfers.CountToHost();
        return result;
    }

    internal override Tensor Full(float value, int[] shape)
    {
        var y = NewFloat(shape);
        int n = y.Numel;
        if (n > 0)
            K<float, ArrayView<float>>("fill", Elementwise.Fill)(Threads(n), n, Threads(n), value, F(y));
        return y;
    }

    internal override Tensor Copy(Tensor x)
    {
        var shape = (int[])x.ShapeArr.Clone();
        int n = x.Numel;
        var layout = Layout.Of(x);
        switch (x.Dtype)
        {
            case DType.Float32:
                var y = NewFloat(shape);
                if (n > 0)
                    K<Layout, ArrayView<float>, ArrayView<float>>("copy", Elementwise.Copy)(Threads(n), n, Threads(n), layout, F(x), F(y));
                return y;
            case DType.Int32:
                var yi = NewInt(shape);
                if (n > 0)
                    K<Layout, ArrayView<int>, ArrayView<int>>("copy_int", Elementwise.CopyInt)(Threads(n), n, Threads(n), layout, I(x), I(yi));
                return yi;
            default:
                var yh = NewHalf(shape);
                if (n > 0)
                    K<Layout, ArrayView<ushort>, ArrayView<ushort>>("copy_half", Elementwise.CopyHalf)(Threads(n), n, Threads(n), layout, H(x), H(yh));
                return yh;
        }
    }

    internal override Tensor ToFloat(Tensor x)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        int n = x.Numel;
        if (n == 0)
            return y;
        var layout = Layout.Of(x);
        if (x.Dtype == DType.Int32)
            K<Layout, ArrayView<int>, ArrayView<float>>("int_to_float", Elementwise.IntToFloat)(Threads(n), n, Threads(n), layout, I(x), F(y));
        else if (x.Dtype == DType.BFloat16)
            K<Layout, ArrayView<ushort>, ArrayView<float>>("half_to_float", Elementwise.HalfToFloat)(Threads(n), n, Threads(n), layout, H(x), F(y));
        else
            return Copy(x);
        return y;
    }

    // ---- element-wise -------------------------------------------------------------------------

    internal override Tensor Binary(BinaryOp op, Tensor a, Tensor b, int[] outShape)
    {
        var y = NewFloat(outShape);
        int n = y.Numel;
        if (n > 0)
        {
            K<int, Layout, ArrayView<float>, Layout, ArrayView<float>, ArrayView<float>>("binary", Elementwise.Binary)(
                Threads(n), n, Threads(n), (int)op, Layout.Of(a, outShape), F(a), Layout.Of(b, outShape), F(b), F(y));
        }
        return y;
    }

    internal override Tensor BinaryScalar(BinaryOp op, Tensor a, float s, bool scalarFirst)
    {
        var y = NewFloat((int[])a.ShapeArr.Clone());
        int n = y.Numel;
        if (n > 0)
        {
            K<int, Layout, ArrayView<float>, float, int, ArrayView<float>>("binary_scalar", Elementwise.BinaryScalar)(
                Threads(n), n, Threads(n), (int)op, Layout.Of(a), F(a), s, scalarFirst ? 1 : 0, F(y));
        }
        return y;
    }

    internal override Tensor Unary(UnaryOp op, float p, float q, Tensor x)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        int n = y.Numel;
        if (n > 0)
        {
            K<int, float, float, ArrayView<float>, ArrayView<float>>("unary", Elementwise.Unary)(
                Threads(n), n, Threads(n), (int)op, p, q, Dense(x), F(y));
        }
        return y;
    }

    internal override Tensor UnaryGrad(UnaryOp op, float p, float q, Tensor x, Tensor y, Tensor g)
    {
        var dx = NewFloat((int[])x.ShapeArr.Clone());
        int n = dx.Numel;
        if (n > 0)
        {
            var k = Gpu.Kernel("unary_grad", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, float, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Elementwise.UnaryGrad));
            k(Threads(n), n, Threads(n), (int)op, p, q, Dense(x), Dense(y), Dense(g), F(dx));
        }
        return dx;
    }

    internal override Tensor Compare(Tensor a, Tensor b, int[] outShape, bool greaterEqual)
    {
        var y = NewFloat(outShape);
        int n = y.Numel;
        if (n > 0)
        {
            K<int, Layout, ArrayView<float>, Layout, ArrayView<float>, ArrayView<float>>("compare", Elementwise.Compare)(
                Threads(n), n, Threads(n), greaterEqual ? 1 : 0, Layout.Of(a, outShape), F(a), Layout.Of(b, outShape), F(b), F(y));
        }
        return y;
    }

    internal override Tensor Where(Tensor cond, Tensor a, Tensor b, int[] outShape)
    {
        var y = NewFloat(outShape);
        int n = y.Numel;
        if (n > 0)
        {
            var k = Gpu.Kernel("where", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, Layout, ArrayView<float>, Layout, ArrayView<float>, Layout, ArrayView<float>, ArrayView<float>>(Elementwise.Where));
            k(Threads(n), n, Threads(n), Layout.Of(cond, outShape), F(cond), Layout.Of(a, outShape), F(a), Layout.Of(b, outShape), F(b), F(y));
        }
        return y;
    }

    /// <summary>The elements of a contiguous float32 tensor from its offset on.</summary>
    private ArrayView<float> Dense(Tensor t)
    {
        if (!t.IsContiguous)
            throw new InvalidOperationException("internal: a row kernel was given a non-contiguous tensor");
        var v = F(t);
        return t.Offset == 0 ? v : v.SubView(t.Offset, t.Numel);
    }

    // ---- rows -----------------------------------------------------------------------------------

    internal override Tensor RowSum(Tensor x, int rows, int cols)
    {
        var y = NewFloat([rows]);
        if (rows > 0)
            Gpu.Kernel("row_sum", a => a.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>>(Grouped.Sum))(RowGroups(rows), rows, cols, Dense(x), F(y));
        return y;
    }

    internal override (Tensor Values, Tensor Indices) RowMax(Tensor x, int rows, int cols)
    {
        var values = NewFloat([rows]);
        var indices = NewInt([rows]);
        if (rows > 0)
            K<int, ArrayView<float>, ArrayView<float>, ArrayView<int>>("row_max", Kernels.Rows.Max)(Threads(rows), rows, Threads(rows), cols, Dense(x), F(values), I(indices));
        return (values, indices);
    }

    internal override Tensor Softmax(Tensor x, int rows, int cols, bool log)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        if (rows > 0 && cols > 0)
            Gpu.Kernel("softmax", a => a.LoadStreamKernel<int, int, int, ArrayView<float>, ArrayView<float>>(Grouped.Softmax))(RowGroups(rows), rows, cols, log ? 1 : 0, Dense(x), F(y));
        return y;
    }

    internal override Tensor SoftmaxGrad(Tensor y, Tensor g, int rows, int cols, bool log)
    {
        var dx = NewFloat((int[])y.ShapeArr.Clone());
        if (rows > 0 && cols > 0)
            Gpu.Kernel("softmax_grad", a => a.LoadStreamKernel<int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.SoftmaxGrad))(RowGroups(rows), rows, cols, log ? 1 : 0, Dense(y), Dense(g), F(dx));
        return dx;
    }

    // ---- GEMM -----------------------------------------------------------------------------------

    internal override Tensor ToBFloat16(Tensor x)
    {
        var y = NewHalf((int[])x.ShapeArr.Clone());
        int n = y.Numel;
        if (n > 0)
            K<Layout, ArrayView<float>, ArrayView<ushort>>("float_to_half", Elementwise.FloatToHalf)(Threads(n), n, Threads(n), Layout.Of(x), F(x), H(y));
        return y;
    }

    /// <summary>x rounded to bf16 values but kept in float32 (what a bf16 GEMM reads), contiguous.</summary>
    private Tensor RoundToBFloat16(Tensor x)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        int n = y.Numel;
        if (n > 0)
            K<Layout, ArrayView<float>, ArrayView<float>>("round_to_half", Elementwise.RoundToHalf)(Threads(n), n, Threads(n), Layout.Of(x), F(x), F(y));
        return y;
    }

    internal override Tensor Matmul(Tensor a, Tensor b, int[] batchShape, int m, int n, int k)
    {
        int total = ShapeUtil.Numel(batchShape) * m * n;
        if (total == 0)
            return NewFloat([.. batchShape, m, n]);
        if (k == 0)
            return Full(0f, [.. batchShape, m, n]);
        if (Gpu.IsCuda)
            return CublasMatmul(a, b, batchShape, m, n, k);
        if (BFloat16Matmul)
        {
            a = RoundToBFloat16(a);
            b = RoundToBFloat16(b);
        }
        var y = NewFloat([.. batchShape, m, n]);
        var kernel = Gpu.Kernel("gemm", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, Layout, int, int, ArrayView<float>, Layout, int, int, ArrayView<float>, ArrayView<float>>(Kernels.Gemm.Run));
        kernel(Threads(total), total, Threads(total), m, n, k,
            Layout.OfBatch(a, batchShape), a.StridesArr[^2], a.StridesArr[^1], F(a),
            Layout.OfBatch(b, batchShape), b.StridesArr[^2], b.StridesArr[^1], F(b),
            F(y));
        return y;
    }

    private Cuda.Cublas? _cublas;

    /// <summary>The product by cuBLAS: fp32 GEMM, or bf16 inputs with fp32 accumulation under <see cref="DeviceBackend.BFloat16Matmul"/>.</summary>
    private Tensor CublasMatmul(Tensor a, Tensor b, int[] batchShape, int m, int n, int k)
    {
        _cublas ??= Cuda.Cublas.Create(((ILGPU.Runtime.Cuda.CudaStream)Gpu.Accelerator.DefaultStream).StreamPtr);
        if (BFloat16Matmul)
        {
            a = ToBFloat16(a);
            b = ToBFloat16(b);
        }
        var plan = Cuda.GemmPlan.For(a.ShapeArr, a.StridesArr, b.ShapeArr, b.StridesArr, batchShape, m, n, k);
        if (plan.NeedsCopyOfOurA || plan.NeedsCopyOfOurB)
        {
            a = plan.NeedsCopyOfOurA ? Copy(a) : a;
            b = plan.NeedsCopyOfOurB ? Copy(b) : b;
            plan = Cuda.GemmPlan.For(a.ShapeArr, a.StridesArr, b.ShapeArr, b.StridesArr, batchShape, m, n, k);
        }
        var y = NewFloat([.. batchShape, m, n]);
        int elem = BFloat16Matmul ? 2 : 4;
        static IntPtr Ptr(Tensor t, long offset, int size) => t.G switch
        {
            GpuStorage<float> f => f.Buffer.NativePtr + (nint)(offset * size),
            GpuStorage<ushort> h => h.Buffer.NativePtr + (nint)(offset * size),
            _ => throw new InvalidOperationException("internal: cuBLAS operand is not a float32 or bf16 device tensor"),
        };
        if (plan.Uniform)
        {
            RunGemm(plan, Ptr(b, b.Offset, elem), Ptr(a, a.Offset, elem), Ptr(y, 0, 4));
            return y;
        }
        // Batch dims without a single stride: one call per batch, offsets from the layouts.
        var la = Layout.OfBatch(a, batchShape);
        var lb = Layout.OfBatch(b, batchShape);
        var one = plan with { BatchCount = 1 };
        for (int i = 0; i < plan.BatchCount; i++)
            RunGemm(one, Ptr(b, lb.At(i), elem), Ptr(a, la.At(i), elem), Ptr(y, (long)i * m * n, 4));
        return y;
    }

    // The BLAS's A is our b and its B is our a (see GemmPlan).
    private void RunGemm(in Cuda.GemmPlan plan, IntPtr ourB, IntPtr ourA, IntPtr c)
    {
        if (BFloat16Matmul)
            _cublas!.GemmBf16(plan, ourB, ourA, c);
        else
            _cublas!.Sgemm(plan, ourB, ourA, c);
    }

    // ---- fused model ops ------------------------------------------------------------------------

    internal override (Tensor Y, Tensor Mean, Tensor Rstd) Norm(Tensor x, Tensor? weight, Tensor? bias, int rows, int c, float eps, bool rms)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        var mean = NewFloat([rows]);
        var rstd = NewFloat([rows]);
        if (rows == 0)
            return (y, mean, rstd);
        int flags = (weight is null ? 0 : 1) | (bias is null ? 0 : 2) | (rms ? 4 : 0);
        var k = Gpu.Kernel("norm", a => a.LoadStreamKernel<int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.NormForward));
        k(RowGroups(rows), rows, c, flags, eps, Dense(x), weight is null ? F(y) : Dense(weight), bias is null ? F(y) : Dense(bias), F(y), F(mean), F(rstd));
        return (y, mean, rstd);
    }

    internal override (Tensor Dx, Tensor? Dw, Tensor? Db) NormGrad(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor g, int rows, int c, bool rms, bool needParams)
    {
        var dx = NewFloat((int[])x.ShapeArr.Clone());
        if (rows == 0)
            return (dx, needParams ? Full(0f, [c]) : null, needParams ? Full(0f, [c]) : null);
        int flags = (weight is null ? 0 : 1) | (rms ? 4 : 0);
        var k = Gpu.Kernel("norm_input_grad", a => a.LoadStreamKernel<int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.NormInputGrad));
        k(RowGroups(rows), rows, c, flags, Dense(x), weight is null ? F(dx) : Dense(weight), F(mean), F(rstd), Dense(g), F(dx));
        if (!needParams)
            return (dx, null, null);
        var dw = NewFloat([c]);
        var db = NewFloat([c]);
        var kp = Gpu.Kernel("norm_param_grad", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Norms.ParamGrad));
        kp(Threads(c), c, Threads(c), rows, Dense(x), F(mean), F(rstd), Dense(g), F(dw), F(db));
        return (dx, dw, db);
    }

    internal override Tensor Embedding(Tensor weight, Tensor ids, int n)
    {
        int v = weight.ShapeArr[0], c = weight.ShapeArr[1];
        var y = NewFloat([n, c]);
        int total = n * c;
        if (total > 0)
        {
            var k = Gpu.Kernel("embedding", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(Tokens.Embedding));
            k(Threads(total), total, Threads(total), c, v, Dense(weight), DenseInt(ids), F(y));
        }
        return y;
    }

    internal override Tensor EmbeddingGrad(Tensor g, Tensor ids, int n, int v, int c)
    {
        var dw = Full(0f, [v, c]);
        int total = n * c;
        if (total > 0)
        {
            var k = Gpu.Kernel("embedding_grad", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(Tokens.EmbeddingGrad));
            k(Threads(total), total, Threads(total), c, v, Dense(g), DenseInt(ids), F(dw));
        }
        return dw;
    }

    internal override (Tensor LogP, Tensor Max, Tensor Sum) TokenLogProbs(Tensor logits, Tensor ids, int rows, int v, int ignoreIndex)
    {
        var logp = NewFloat([rows]);
        var max = NewFloat([rows]);
        var sum = NewFloat([rows]);
        if (rows > 0)
        {
            var k = Gpu.Kernel("token_log_probs", a => a.LoadStreamKernel<int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.LogProbs));
            k(RowGroups(rows), rows, v, ignoreIndex, Dense(logits), DenseInt(ids), F(logp), F(max), F(sum));
        }
        return (logp, max, sum);
    }

    internal override Tensor TokenLogProbsGrad(Tensor logits, Tensor ids, Tensor max, Tensor sum, Tensor g, int rows, int v, int ignoreIndex)
    {
        var dx = NewFloat([rows, v]);
        int total = rows * v;
        if (total > 0)
        {
            var k = Gpu.Kernel("token_log_probs_grad", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Tokens.LogProbsGrad));
            k(Threads(total), total, Threads(total), v, ignoreIndex, Dense(logits), DenseInt(ids), F(max), F(sum), Dense(g), F(dx));
        }
        return dx;
    }

    internal override (Tensor H, Tensor Max, Tensor LogSum) Entropy(Tensor logits, int rows, int v)
    {
        var h = NewFloat([rows]);
        var max = NewFloat([rows]);
        var logSum = NewFloat([rows]);
        if (rows > 0)
        {
            var k = Gpu.Kernel("entropy", a => a.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.Entropy));
            k(RowGroups(rows), rows, v, Dense(logits), F(h), F(max), F(logSum));
        }
        return (h, max, logSum);
    }

    internal override Tensor EntropyGrad(Tensor logits, Tensor h, Tensor max, Tensor logSum, Tensor g, int rows, int v)
    {
        var dx = NewFloat([rows, v]);
        int total = rows * v;
        if (total > 0)
        {
            var k = Gpu.Kernel("entropy_grad", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Tokens.EntropyGrad));
            k(Threads(total), total, Threads(total), v, Dense(logits), F(h), F(max), F(logSum), Dense(g), F(dx));
        }
        return dx;
    }

    internal override Tensor Rope(Tensor x, Tensor positions, bool perBatch, Tensor cos, Tensor sin, int rotaryDim, float sign)
    {
        var y = NewFloat((int[])x.ShapeArr.Clone());
        int total = y.Numel;
        if (total > 0)
        {
            var k = Gpu.Kernel("rope", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, Layout, ArrayView<float>, RopeShape, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Kernels.Attention.Rope));
            var shape = new RopeShape
            {
                Heads = x.ShapeArr[1],
                Length = x.ShapeArr[2],
                HeadDim = x.ShapeArr[3],
                RotaryDim = rotaryDim,
                PerBatch = perBatch ? 1 : 0,
                MaxPositions = cos.ShapeArr[0],
                Sign = sign,
            };
            k(Threads(total), total, Threads(total), Layout.Of(x), F(x), shape,
                DenseInt(positions), Dense(cos), Dense(sin), F(y));
        }
        return y;
    }

    internal override Tensor MaskedSoftmax(Tensor scores, int rows, int tk, int tq, int heads, bool causal, Tensor? keyMask)
    {
        var p = NewFloat((int[])scores.ShapeArr.Clone());
        if (rows > 0 && tk > 0)
        {
            var k = Gpu.Kernel("masked_softmax", a => a.LoadStreamKernel<int, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Grouped.MaskedSoftmax));
            k(RowGroups(rows), rows, tk, tq, heads, causal ? 1 : 0, keyMask is null ? 0 : 1, Dense(scores), keyMask is null ? F(p) : Dense(keyMask), F(p));
        }
        return p;
    }

    internal override Tensor GatherRows(Tensor x, Tensor index, int outer, int n, int m, int inner, bool perElement)
    {
        var shape = new GatherShape { Outer = outer, N = n, M = m, Inner = inner, PerElement = perElement ? 1 : 0 };
        int total = outer * m * inner;
        if (x.Dtype == DType.Int32)
        {
            var yi = NewInt([outer, m, inner]);
            if (total > 0)
                K<GatherShape, ArrayView<int>, ArrayView<int>, ArrayView<int>>("gather_int", Gathers.Int)(Threads(total), total, Threads(total), shape, DenseInt(x), DenseInt(index), I(yi));
            return yi;
        }
        var y = NewFloat([outer, m, inner]);
        if (total > 0)
            K<GatherShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>("gather", Gathers.Float)(Threads(total), total, Threads(total), shape, Dense(x), DenseInt(index), F(y));
        return y;
    }

    internal override Tensor GatherRowsGrad(Tensor g, Tensor index, int outer, int n, int m, int inner, bool perElement)
    {
        var shape = new GatherShape { Outer = outer, N = n, M = m, Inner = inner, PerElement = perElement ? 1 : 0 };
        var dx = Full(0f, [outer, n, inner]);
        int total = outer * m * inner;
        if (total > 0)
            K<GatherShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>("gather_grad", Gathers.ScatterAdd)(Threads(total), total, Threads(total), shape, Dense(g), DenseInt(index), F(dx));
        return dx;
    }

    internal override Tensor DrawTokens(Tensor logits, int rows, int v, float invTemperature, bool greedy, Tensor? uniformBits)
    {
        var result = NewFloat([rows, 2]);
        if (rows > 0 && v > 0)
        {
            var k = Gpu.Kernel("draw_tokens", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, float, int, ArrayView<float>, ArrayView<int>, ArrayView<float>>(Kernels.Sampling.Draw));
            // Without uniforms (greedy) the kernel reads none; any int32 buffer stands in.
            var bits = uniformBits ?? NewInt([1]);
            k(Threads(rows), rows, Threads(rows), v, invTemperature, greedy ? 1 : 0, Dense(logits), DenseInt(bits), F(result));
        }
        return result;
    }

    // ---- in place ---------------------------------------------------------------------------------

    internal override void CopyInto(Tensor src, Tensor dst)
    {
        int n = src.Numel;
        if (n > 0)
            K<ArrayView<float>, Layout, ArrayView<float>>("copy_into", Kernels.Optim.CopyInto)(Threads(n), n, Threads(n), Dense(src), Layout.Of(dst), F(dst));
    }

    internal override void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps)
    {
        int n = param.Numel;
        if (n == 0)
            return;
        var k = Gpu.Kernel("adamw", a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float, float, float>(Kernels.Optim.AdamW));
        k(Threads(n), n, Threads(n), Dense(param), Dense(grad), Dense(m), Dense(v), decay, beta1, c1, beta2, c2, stepSize, sqrtBc2, eps);
    }

    internal override void AddSumOfSquares(Tensor x, Tensor accumulator)
    {
        int n = x.Numel;
        if (n > 0)
            K<ArrayView<float>, ArrayView<float>>("sum_of_squares", Kernels.Optim.SumOfSquares)(Threads(n), n, Threads(n), Dense(x), Dense(accumulator));
    }

    /// <summary>The elements of a contiguous int32 tensor from its offset on.</summary>
    private ArrayView<int> DenseInt(Tensor t)
    {
        if (!t.IsContiguous)
            throw new InvalidOperationException("internal: a kernel was given a non-contiguous id tensor");
        var v = I(t);
        return t.Offset == 0 ? v : v.SubView(t.Offset, t.Numel);
    }

    public override void Dispose()
    {
        _cublas?.Dispose();
        Unregister(_device);
        Gpu.Dispose();
    }
}
