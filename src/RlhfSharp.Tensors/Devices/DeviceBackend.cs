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
    /// Mixed precision (<c>dtype: bf16</c>): every matrix product on this device reads its operands
    /// rounded to bf16 and accumulates in fp32 (tensor cores on a GPU), while weights, gradients and
    /// optimizer state stay fp32. Off by default.
    /// </summary>
    public bool BFloat16Matmul { get; set; }

    /// <summary>A float32 device tensor rounded to a contiguous bf16 one (to nearest even).</summary>
    internal abstract Tensor ToBFloat16(Tensor x);

    /// <summary>
    /// a [.., m, k] · b [.., k, n] -> [batch.., m, n] with any strides (transposed views included)
    /// and broadcast batch dims (each operand's batch dims right-aligned to <paramref name="batchShape"/>).
    /// </summary>
    internal abstract Tensor Matmul(Tensor a, Tensor b, int[] batchShape, int m, int n, int k);

    // ---- fused model ops ------------------------------------------------------------------------

    /// <summary>LayerNorm, or RMSNorm when <paramref name="rms"/>, of each row of a contiguous [rows, C] x. -> y [rows, C], mean [rows], rstd [rows]</summary>
    internal abstract (Tensor Y, Tensor Mean, Tensor Rstd) Norm(Tensor x, Tensor? weight, Tensor? bias, int rows, int c, float eps, bool rms);

    /// <summary>Backward of <see cref="Norm"/>. -> dx [rows, C], and dw, db [C] when asked for</summary>
    internal abstract (Tensor Dx, Tensor? Dw, Tensor? Db) NormGrad(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor g, int rows, int c, bool rms, bool needParams);

    /// <summary>Rows of a contiguous float32 [V, C] weight. ids int32 [n] -> [n, C]</summary>
    internal abstract Tensor Embedding(Tensor weight, Tensor ids, int n);

    /// <summary>The [V, C] gradient of <see cref="Embedding"/>: g [n, C] rows added at their ids.</summary>
    internal abstract Tensor EmbeddingGrad(Tensor g, Tensor ids, int n, int v, int c);

    /// <summary>log softmax(x)[id] per row of a contiguous [rows, V] x (0 where id is ignoreIndex). -> logp, max, sum [rows]</summary>
    internal abstract (Tensor LogP, Tensor Max, Tensor Sum) TokenLogProbs(Tensor logits, Tensor ids, int rows, int v, int ignoreIndex);

    /// <summary>Backward of <see cref="TokenLogProbs"/>: dlogits = g·(onehot − softmax). -> [rows, V]</summary>
    internal abstract Tensor TokenLogProbsGrad(Tensor logits, Tensor ids, Tensor max, Tensor sum, Tensor g, int rows, int v, int ignoreIndex);

    /// <summary>Entropy of softmax per row of a contiguous [rows, V] x. -> h, max, logSum [rows]</summary>
    internal abstract (Tensor H, Tensor Max, Tensor LogSum) Entropy(Tensor logits, int rows, int v);

    /// <summary>Backward of <see cref="Entropy"/>. -> [rows, V]</summary>
    internal abstract Tensor EntropyGrad(Tensor logits, Tensor h, Tensor max, Tensor logSum, Tensor g, int rows, int v);

    /// <summary>
    /// Rotary embedding of x [B, H, T, D] (any layout) by the cos/sin tables [P, rd/2] (float32, on
    /// this device) at positions int32 [T] or [B, T] (on this device); sign −1 rotates back.
    /// </summary>
    internal abstract Tensor Rope(Tensor x, Tensor positions, bool perBatch, Tensor cos, Tensor sin, int rotaryDim, float sign);

    /// <summary>
    /// Attention probabilities from scores [B·H·Tq, Tk] (contiguous): softmax over the keys row i
    /// may see (end-aligned causal rule; keyMask [B, Tk] float, 1 = attend), 0 elsewhere.
    /// </summary>
    internal abstract Tensor MaskedSoftmax(Tensor scores, int rows, int tk, int tq, int heads, bool causal, Tensor? keyMask);

    /// <summary>
    /// Gather along the middle dim of a contiguous [outer, n, inner] float32 or int32 x: index int32
    /// [outer, m, inner] when <paramref name="perElement"/> (Gather), else [m] (IndexSelect). -> [outer, m, inner]
    /// </summary>
    internal abstract Tensor GatherRows(Tensor x, Tensor index, int outer, int n, int m, int inner, bool perElement);

    /// <summary>Backward of <see cref="GatherRows"/> for float32: g [outer, m, inner] added into zeros [outer, n, inner].</summary>
    internal abstract Tensor GatherRowsGrad(Tensor g, Tensor index, int outer, int n, int m, int inner, bool perElement);

    /// <summary>
    /// One token per row of contiguous logits [rows, V]: the arg-max when <paramref name="greedy"/>,
    /// else drawn from softmax(x·invTemperature) with each row's uniform u (int32 [rows·2], the low
    /// and high halves of the double's bits). -> [rows, 2]: token (exact in float32), log-prob.
    /// </summary>
    internal abstract Tensor DrawTokens(Tensor logits, int rows, int v, float invTemperature, bool greedy, Tensor? uniformBits);

    // ---- in place -------------------------------------------------------------------------------

    /// <summary>Writes the contiguous float32 <paramref name="src"/> into the view <paramref name="dst"/> (same shape) in place.</summary>
    internal abstract void CopyInto(Tensor src, Tensor dst);

    /// <summary>One AdamW update of a contiguous parameter and its moments, in place (see the CPU engine's AdamWKernel).</summary>
    internal abstract void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps);

    /// <summary>Σ x² over a contiguous float32 tensor, added into the one-element <paramref name="accumulator"/>.</summary>
    internal abstract void AddSumOfSquares(Tensor x, Tensor accumulator);

    public abstract void Dispose();
}
