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

    private Tensor NewFloat(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Gpu.Accelerator.Allocate1D<float>(Math.Max(n, 1));
        return new Tensor(new GpuStorage<float>(this, DType.Float32, buffer), shape);
    }

    private Tensor NewInt(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Gpu.Accelerator.Allocate1D<int>(Math.Max(n, 1));
        return new Tensor(new GpuStorage<int>(this, DType.Int32, buffer), shape);
    }

    private Tensor NewHalf(int[] shape)
    {
        long n = ShapeUtil.Numel(shape);
        var buffer = Gpu.Accelerator.Allocate1D<ushort>(Math.Max(n, 1));
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
            K<int, ArrayView<float>, ArrayView<float>>("row_sum", Kernels.Rows.Sum)(Threads(rows), rows, Threads(rows), cols, Dense(x), F(y));
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
            K<int, int, ArrayView<float>, ArrayView<float>>("softmax", Kernels.Rows.Softmax)(Threads(rows), rows, Threads(rows), cols, log ? 1 : 0, Dense(x), F(y));
        return y;
    }

    internal override Tensor SoftmaxGrad(Tensor y, Tensor g, int rows, int cols, bool log)
    {
        var dx = NewFloat((int[])y.ShapeArr.Clone());
        if (rows > 0 && cols > 0)
            K<int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>("softmax_grad", Kernels.Rows.SoftmaxGrad)(Threads(rows), rows, Threads(rows), cols, log ? 1 : 0, Dense(y), Dense(g), F(dx));
        return dx;
    }

    // ---- GEMM -----------------------------------------------------------------------------------

    internal override Tensor Matmul(Tensor a, Tensor b, int[] batchShape, int m, int n, int k)
    {
        var y = NewFloat([.. batchShape, m, n]);
        int total = y.Numel;
        if (total == 0)
            return y;
        if (k == 0)
            return Full(0f, y.ShapeArr);
        var kernel = Gpu.Kernel("gemm", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, Layout, int, int, ArrayView<float>, Layout, int, int, ArrayView<float>, ArrayView<float>>(Gemm.Run));
        kernel(Threads(total), total, Threads(total), m, n, k,
            Layout.OfBatch(a, batchShape), a.StridesArr[^2], a.StridesArr[^1], F(a),
            Layout.OfBatch(b, batchShape), b.StridesArr[^2], b.StridesArr[^1], F(b),
            F(y));
        return y;
    }

    public override void Dispose()
    {
        Unregister(_device);
        Gpu.Dispose();
    }
}
