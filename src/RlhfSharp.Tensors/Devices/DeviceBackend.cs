namespace RlhfSharp.Tensors;

/// <summary>The element-wise maps the device engine has, each with its derivative.</summary>
internal enum UnaryOp
{
    Neg,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    Silu,
    Softplus,
    GeluErf,
    GeluTanh,

    /// <summary>x^p.</summary>
    Pow,

    /// <summary>min(max(x, p), q); the gradient flows where p ≤ x ≤ q.</summary>
    Clamp,
}

/// <summary>
/// The engine for tensors on one device. <see cref="Tensor"/> ops on device tensors call it; it
/// owns the device memory and runs the kernels. A backend is set up once per process and device
/// (<see cref="Register"/>), by the GPU engine's project, which implements the members below.
/// Shapes follow the CPU engine's ops of the same name; every result is a new contiguous tensor on
/// this device.
/// </summary>
public abstract class DeviceBackend : IDisposable
{
    private static readonly Dictionary<Device, DeviceBackend> Backends = [];

    public abstract Device Device { get; }

    /// <summary>The device in words, e.g. "cuda:0 (NVIDIA H200)".</summary>
    public abstract string Name { get; }

    /// <summary>Makes <paramref name="backend"/> the engine of its device in this process.</summary>
    public static void Register(DeviceBackend backend)
    {
        lock (Backends)
            Backends[backend.Device] = backend;
    }

    /// <summary>Forgets the engine of <paramref name="device"/> (its tensors can no longer be computed).</summary>
    public static void Unregister(Device device)
    {
        lock (Backends)
            Backends.Remove(device);
    }

    public static bool IsRegistered(Device device)
    {
        lock (Backends)
            return Backends.ContainsKey(device);
    }

    /// <summary>The engine of <paramref name="device"/>; a clear error when none was set up.</summary>
    public static DeviceBackend For(Device device)
    {
        lock (Backends)
        {
            if (Backends.TryGetValue(device, out var b))
                return b;
        }
        throw new DeviceMismatchException(
            $"device {device} is not set up in this process; the GPU engine sets it up (GpuEngine.Use(\"{device}\") in RlhfSharp.Tensors.Gpu, or device: {device} in a run's config)");
    }

    // ---- memory ---------------------------------------------------------------------------

    /// <summary>A contiguous host tensor's elements copied to this device (same dtype and shape).</summary>
    internal abstract Tensor Upload(Tensor host);

    /// <summary>A device tensor (any layout) copied to a contiguous host tensor of the same dtype.</summary>
    internal abstract Tensor Download(Tensor x);

    /// <summary>A new float32 tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    internal abstract Tensor Full(float value, int[] shape);

    /// <summary>A contiguous copy of any layout (views, broadcasts), same dtype.</summary>
    internal abstract Tensor Copy(Tensor x);

    /// <summary>An int32 or bf16 tensor converted to a contiguous float32 one.</summary>
    internal abstract Tensor ToFloat(Tensor x);

    // ---- element-wise ---------------------------------------------------------------------

    /// <summary>a ∘ b with broadcasting; a and b float32 with any strides. -> outShape</summary>
    internal abstract Tensor Binary(BinaryOp op, Tensor a, Tensor b, int[] outShape);

    /// <summary>a ∘ s (or s ∘ a when <paramref name="scalarFirst"/>). -> a's shape</summary>
    internal abstract Tensor BinaryScalar(BinaryOp op, Tensor a, float s, bool scalarFirst);

    /// <summary>y = f(x) for a contiguous float32 x; p and q are the op's parameters (Pow: p; Clamp: p, q).</summary>
    internal abstract Tensor Unary(UnaryOp op, float p, float q, Tensor x);

    /// <summary>dx = g ⊙ f'(x) (y = f(x) given too, for maps whose derivative is cheaper from it); all contiguous.</summary>
    internal abstract Tensor UnaryGrad(UnaryOp op, float p, float q, Tensor x, Tensor y, Tensor g);

    /// <summary>1 where a ≥ b (or a ≤ b when not <paramref name="greaterEqual"/>), else 0, with broadcasting. -> outShape</summary>
    internal abstract Tensor Compare(Tensor a, Tensor b, int[] outShape, bool greaterEqual);

    /// <summary>Where(cond, a, b) with broadcasting; cond is read as "≠ 0". -> outShape</summary>
    internal abstract Tensor Where(Tensor cond, Tensor a, Tensor b, int[] outShape);

    // ---- reductions and rows ----------------------------------------------------------------

    /// <summary>Row sums of a contiguous [rows, cols] float32 tensor. -> [rows]</summary>
    internal abstract Tensor RowSum(Tensor x, int rows, int cols);

    /// <summary>Row max and its first index over a contiguous [rows, cols] float32 tensor. -> [rows], int32 [rows]</summary>
    internal abstract (Tensor Values, Tensor Indices) RowMax(Tensor x, int rows, int cols);

    /// <summary>softmax (or log-softmax) of each row of a contiguous [rows, cols] tensor.</summary>
    internal abstract Tensor Softmax(Tensor x, int rows, int cols, bool log);

    /// <summary>Backward of <see cref="Softmax"/> from its output y and the gradient g (both [rows, cols], contiguous).</summary>
    internal abstract Tensor SoftmaxGrad(Tensor y, Tensor g, int rows, int cols, bool log);

    // ---- GEMM -------------------------------------------------------------------------------

    /// <summary>
    /// a [.., m, k] · b [.., k, n] -> [batch.., m, n] with any strides (transposed views included)
    /// and broadcast batch dims (each operand's batch dims right-aligned to <paramref name="batchShape"/>).
    /// </summary>
    internal abstract Tensor Matmul(Tensor a, Tensor b, int[] batchShape, int m, int n, int k);

    public abstract void Dispose();
}
