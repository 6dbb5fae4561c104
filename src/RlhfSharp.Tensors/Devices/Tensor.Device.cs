using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>Device storage, when this tensor lives on a device (then F, H, I and D are null).</summary>
    internal DeviceStorage? G => _storage as DeviceStorage;

    internal Tensor(DeviceStorage storage, int[] shape, int[]? strides = null, int offset = 0)
    {
        _storage = storage;
        Dtype = storage.Dtype;
        ShapeArr = shape;
        StridesArr = strides ?? StridesCache.For(shape);
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
    }

    /// <summary>Where this tensor's elements live.</summary>
    public Device Device => G?.Device ?? Device.Cpu;

    /// <summary>Whether this tensor lives on a device rather than in host memory.</summary>
    public bool IsOnDevice => G is not null;

    /// <summary>The engine of this tensor's device (device tensors only).</summary>
    internal DeviceBackend Backend => G?.Backend ?? throw new InvalidOperationException("internal: Backend of a host tensor");

    /// <summary>
    /// This tensor on <paramref name="device"/>: itself when it is there already, else a copy
    /// (differentiable: the gradient goes back to this tensor's device). Dtype and shape are kept;
    /// the copy is contiguous.
    /// </summary>
    public Tensor To(Device device)
    {
        if (device == Device)
            return this;
        Tensor result;
        if (device.IsCpu)
        {
            result = G!.Backend.Download(this);
        }
        else
        {
            var backend = DeviceBackend.For(device);
            var host = G is null ? Contiguous().Detach() : G.Backend.Download(this);
            result = backend.Upload(host);
        }
        var from = Device;
        return Dtype == DType.Float32 ? Record(result, "to", [this], g => [g.To(from)]) : result;
    }

    /// <summary>This tensor in host memory (<see cref="To"/> the CPU).</summary>
    public Tensor Cpu() => To(Device.Cpu);

    /// <summary>A new float32 tensor of <paramref name="shape"/> filled with <paramref name="value"/> on <paramref name="device"/>.</summary>
    public static Tensor Full(float value, int[] shape, Device device) =>
        device.IsCpu ? Full(value, shape) : DeviceBackend.For(device).Full(value, (int[])shape.Clone());

    public static Tensor Zeros(int[] shape, Device device) => Full(0f, shape, device);

    public static Tensor Ones(int[] shape, Device device) => Full(1f, shape, device);

    /// <summary>The error for host-only code reached by a device tensor.</summary>
    private DeviceMismatchException OnDevice(string what) =>
        new($"{what}: this tensor is on {Device}, and this op runs on the CPU engine only so far; move it with .To(Device.Cpu) first");

    /// <summary>
    /// The one device of several operands; null when all are on the host. Host operands are then
    /// copied to it by the op (see <see cref="OnBackend"/>); operands on two devices are an error
    /// naming both.
    /// </summary>
    internal static DeviceBackend? DeviceOf(string op, params Tensor?[] operands)
    {
        DeviceBackend? backend = null;
        Tensor? first = null;
        foreach (var t in operands)
        {
            if (t?.G is null)
                continue;
            if (backend is null)
            {
                backend = t.G.Backend;
                first = t;
            }
            else if (t.G.Backend != backend)
            {
                throw new DeviceMismatchException($"{op}: operands are on {first!.Device} and {t.Device}; move them to one device with .To(device)");
            }
        }
        return backend;
    }

    /// <summary>
    /// An operand of a device op, on that device: a device tensor as it is; a host tensor (ids,
    /// masks, targets, constants from the data) copied there, which counts as a transfer. A host
    /// tensor that requires grad is refused, as its gradient would have to come back: move such a
    /// tensor (a parameter) with .To(device) yourself, or the module with Module.To.
    /// </summary>
    internal static Tensor OnBackend(DeviceBackend backend, Tensor t, string op)
    {
        if (t.G is not null)
            return t;
        if (t.RequiresGrad && GradMode.IsEnabled)
            throw new DeviceMismatchException($"{op}: a cpu tensor that requires grad meets one on {backend.Device}; move it (or its module) to {backend.Device} so its gradient stays there");
        if (t.Dtype == DType.Float64)
            throw new DeviceMismatchException($"{op}: a float64 cpu tensor meets one on {backend.Device}; float64 stays on the host (statistics): convert it with Float() first, or bring the other operand to the host with Cpu()");
        return t.To(backend.Device);
    }

    /// <summary>A one-element host tensor's value, for ops that take it as a scalar on a device.</summary>
    private static bool IsHostScalar(Tensor t) => t.G is null && t.Numel == 1;

    private static Tensor DeviceBinary(DeviceBackend backend, Tensor a, Tensor b, BinaryOp op, string name)
    {
        if (a.Dtype == DType.Float64 || b.Dtype == DType.Float64)
            throw new DeviceMismatchException($"{name}: float64 tensors stay on the host (they hold statistics); use Float() first");
        if (IsHostScalar(b))
            return backend.BinaryScalar(op, a.DeviceFloat(), b.Float().Item(), scalarFirst: false);
        if (IsHostScalar(a))
            return backend.BinaryScalar(op, b.DeviceFloat(), a.Float().Item(), scalarFirst: true);
        var outShape = ShapeUtil.Broadcast(a.ShapeArr, b.ShapeArr, name);
        return backend.Binary(op, OnBackend(backend, a, name).DeviceFloat(), OnBackend(backend, b, name).DeviceFloat(), outShape);
    }

    /// <summary>A device tensor as float32 (int32 and bf16 converted on the device).</summary>
    private Tensor DeviceFloat() => Dtype == DType.Float32 ? this : Backend.ToFloat(this);

    /// <summary>y = f(x) on the device with its gradient g ⊙ f'(x).</summary>
    private Tensor DeviceUnary(UnaryOp op, string name, float p = 0f, float q = 0f)
    {
        var x = DeviceFloat().Detach().Contiguous();
        var backend = Backend;
        var y = backend.Unary(op, p, q, x);
        return Record(y, name, [this], g => [backend.UnaryGrad(op, p, q, x, y, g.Contiguous())]);
    }

    /// <summary>Device sums over dims (no recording): reduced dims moved last, then row sums.</summary>
    private (Tensor Values, int[] Kept, int[] Out) DeviceReduceSum(int[] dims, string op)
    {
        var nd = NormaliseDims(dims, op);
        var kept = (int[])ShapeArr.Clone();
        foreach (var d in nd)
            kept[d] = 1;
        var outShape = ShapeArr.Where((_, i) => !nd.Contains(i)).ToArray();
        var x = DeviceFloat().Detach();
        if (nd.Length == 0)
            return (x.Clone(), kept, outShape);
        int reduceCount = 1;
        foreach (var d in nd)
            reduceCount *= ShapeArr[d];
        int outCount = ShapeUtil.Numel(kept);
        if (reduceCount == 0)
            return (Backend.Full(0f, kept), kept, outShape);
        var moved = x.Permute([.. Enumerable.Range(0, Rank).Where(i => !nd.Contains(i)), .. nd]).Contiguous();
        var sums = Backend.RowSum(moved, outCount, reduceCount);
        return (sums.ViewOf(kept, ShapeUtil.ContiguousStrides(kept), 0), kept, outShape);
    }

    /// <summary>Makes a zero-filled tensor like <paramref name="like"/> on its device (or the host).</summary>
    internal static Tensor ZerosOn(Tensor like, int[] shape) =>
        like.G is null ? new Tensor(GradBuffers.RentZeroed(ShapeUtil.Numel(shape)), (int[])shape.Clone()) : like.Backend.Full(0f, (int[])shape.Clone());

    /// <summary>Where(cond, a, b) on a device; host one-element a or b are taken as constants.</summary>
    private static Tensor DeviceWhere(Tensor cond, Tensor a, Tensor b, int[] shape)
    {
        var backend = DeviceOf("Where", cond, a, b)!;
        if (a.Dtype == DType.Float64 || b.Dtype == DType.Float64)
            throw new DeviceMismatchException("Where: float64 tensors stay on the host (they hold statistics); use Float() first");
        var c = OnDevice(backend, cond);
        var result = backend.Where(c, OnDevice(backend, a), OnDevice(backend, b), shape);
        var zero = backend.Full(0f, []);
        return Record(result, "where", [a, b], g =>
        [
            a.RequiresGrad ? backend.Where(c, g, zero, shape).SumToShape(a.ShapeArr) : null,
            b.RequiresGrad ? backend.Where(c, zero, g, shape).SumToShape(b.ShapeArr) : null,
        ]);
    }

    private Tensor DeviceMaskedFill(Tensor mask, float value)
    {
        var backend = DeviceOf("MaskedFill", this, mask)!;
        var c = OnDevice(backend, mask);
        var shape = ShapeArr;
        var result = backend.Where(c, backend.Full(value, []), OnDevice(backend, this), shape);
        return Record(result, "masked_fill", [this], g => [backend.Where(c, backend.Full(0f, []), g, shape)]);
    }

    /// <summary>A float32 device tensor for <paramref name="t"/>: converted there, or a host one-element constant made there.</summary>
    private static Tensor OnDevice(DeviceBackend backend, Tensor t)
    {
        if (t.G is null && t.Numel == 1)
            return backend.Full(t.Float().Item(), [.. t.ShapeArr]);
        t = OnBackend(backend, t.Detach(), "where");
        return t.Dtype == DType.Float32 ? t : backend.ToFloat(t);
    }

    private (Tensor Values, Tensor Indices) DeviceMax(int d, bool keepDim)
    {
        int n = ShapeArr[d];
        if (n == 0)
            throw new ShapeMismatchException("Max", $"cannot take the max over an empty dim {d} of {ShapeUtil.Format(ShapeArr)}");
        var x = DeviceFloat().Detach().Movedim(d).Contiguous();
        int rows = Numel / n;
        var (values, indices) = Backend.RowMax(x, rows, n);
        var kept = (int[])ShapeArr.Clone();
        kept[d] = 1;
        var outShape = keepDim ? kept : ShapeArr.Where((_, i) => i != d).ToArray();
        var vals = values.ViewOf(outShape, ShapeUtil.ContiguousStrides(outShape), 0);
        if (RequiresGrad && GradMode.IsEnabled)
            throw new DeviceMismatchException($"Max: the gradient of max over a dim runs on the CPU engine only so far; this tensor is on {Device}");
        return (vals, indices.ViewOf(outShape, ShapeUtil.ContiguousStrides(outShape), 0));
    }

    /// <summary>Cat of float32 device tensors: each piece written into its slice of the result.</summary>
    private static Tensor DeviceCat(DeviceBackend backend, IReadOnlyList<Tensor> tensors, int d, int[] shape)
    {
        if (tensors[0].Dtype != DType.Float32)
            throw new DeviceMismatchException($"Cat: only float32 tensors are joined on a device so far, got {tensors[0].Dtype}");
        var result = backend.Full(0f, shape);
        int start = 0;
        foreach (var t in tensors)
        {
            backend.CopyInto(OnBackend(backend, t, "Cat").Detach().Contiguous(), result.NarrowNoGrad(d, start, t.ShapeArr[d]));
            start += t.ShapeArr[d];
        }
        var sizes = tensors.Select(t => t.ShapeArr[d]).ToArray();
        return Record(result, "cat", [.. tensors], g =>
        {
            var grads = new Tensor?[sizes.Length];
            int offset = 0;
            for (int i = 0; i < sizes.Length; i++)
            {
                grads[i] = g.NarrowNoGrad(d, offset, sizes[i]).Contiguous();
                offset += sizes[i];
            }
            return grads;
        });
    }

    /// <summary>
    /// Gather (per-element index) or IndexSelect (1-D index) along dim d on the device; indices are
    /// not read back to be checked: one out of range gives NaN (int32: int.MinValue) in its place.
    /// </summary>
    private Tensor DeviceGather(int d, Tensor index, bool perElement)
    {
        string op = perElement ? "Gather" : "IndexSelect";
        var backend = DeviceOf(op, this, index)!;
        if (Dtype == DType.Float64)
            throw new DeviceMismatchException($"{op}: float64 tensors stay on the host (they hold statistics); use Float() first");
        var x = OnBackend(backend, this, op).Detach();
        if (x.Dtype == DType.BFloat16)
            x = x.DeviceFloat();
        var idx = OnBackend(backend, index, op).Contiguous();
        var (outer, inner) = OuterInner(ShapeArr, d);
        int n = ShapeArr[d];
        int m = perElement ? index.ShapeArr[d] : index.Numel;
        var outShape = (int[])ShapeArr.Clone();
        outShape[d] = m;
        var y = backend.GatherRows(x.Contiguous(), idx, outer, n, m, inner, perElement).ViewOf(outShape, ShapeUtil.ContiguousStrides(outShape), 0);
        if (y.Dtype != DType.Float32)
            return y;
        var inShape = ShapeArr;
        return Record(y, perElement ? "gather" : "index_select", [this], g =>
            [backend.GatherRowsGrad(g.Contiguous(), idx, outer, n, m, inner, perElement).ViewOf((int[])inShape.Clone(), ShapeUtil.ContiguousStrides(inShape), 0)]);
    }
}
