using System.Globalization;
using System.Text;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

/// <summary>
/// An n-dimensional array with shape, strides and an offset into shared storage, so views
/// (reshape, transpose, narrow, expand…) are cheap. Storage is fp32, bf16 (read-only weights),
/// int32 (indices) or fp64 (exact no-grad statistics: element-wise arithmetic,
/// Exp/Log/Sqrt/Abs/Pow/Clamp, Where/MaskedFill and Sum/Mean compute in float64 without gradient;
/// other ops read it as float32; see <see cref="DType.Float64"/>). Tensors created by
/// differentiable ops record how to backpropagate.
/// </summary>
public sealed partial class Tensor
{
    // The storage: float[], ushort[] (bf16), int[], double[] or a device's (one field for all of
    // them: a step builds hundreds of tensors, and each field is eight bytes of every one).
    private readonly object? _storage;
    private bool _released;

    // What only leaves and named tensors carry (gradient, name, hooks), kept off the op results.
    private LeafState? _leaf;

    internal ushort[]? H => _storage as ushort[];
    internal int[]? I => _storage as int[];
    internal double[]? D => _storage as double[];
    internal readonly int[] ShapeArr;
    internal readonly int[] StridesArr;
    internal readonly int Offset;
    private bool _requiresGrad;

    internal Tensor(float[] data, int[] shape, int[]? strides = null, int offset = 0)
    {
        _storage = data;
        Dtype = DType.Float32;
        ShapeArr = shape;
        StridesArr = strides ?? StridesCache.For(shape);
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
        GradBuffers.Track(this, data);
    }

    /// <summary>
    /// The float32 storage (null for other dtypes). Throws <see cref="TensorReleasedException"/>
    /// once the training step that owned the storage has ended (see <see cref="TensorArena"/>).
    /// </summary>
    internal float[]? F
    {
        get
        {
            if (_released)
                throw new TensorReleasedException(this);
            return _storage as float[];
        }
    }

    /// <summary>The float32 storage without the released check (the arena's own bookkeeping).</summary>
    internal float[]? RawFloats => _storage as float[];

    /// <summary>Whether the step scope that owned this tensor's storage has ended.</summary>
    public bool IsReleased => _released;

    internal void MarkReleased() => _released = true;

    /// <summary>
    /// Sets <see cref="Grad"/> to null, keeping its storage for the next backward into this leaf
    /// (so a training loop allocates no new gradient storage after its first step). The retired
    /// gradient tensor is released when that storage is reused.
    /// </summary>
    internal void RetireGrad()
    {
        if (Grad is { G: null, Dtype: DType.Float32, Offset: 0, IsReleased: false } g && g.IsContiguous && g.RawFloats!.Length == g.Numel)
            Leaf.RetiredGrad = g;
        Grad = null;
    }

    // The retired gradient's storage if it holds exactly `numel` floats (the retired tensor is released).
    internal float[]? TakeRetiredGrad(int numel)
    {
        var g = _leaf?.RetiredGrad;
        if (_leaf is not null)
            _leaf.RetiredGrad = null;
        if (g is null || g.IsReleased || g.Numel != numel || ReferenceEquals(g, Grad))
            return null;
        g.MarkReleased();
        return g.RawFloats;
    }

    internal Tensor(ushort[] data, int[] shape, int[]? strides = null, int offset = 0)
    {
        _storage = data;
        Dtype = DType.BFloat16;
        ShapeArr = shape;
        StridesArr = strides ?? StridesCache.For(shape);
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
    }

    internal Tensor(int[] data, int[] shape, int[]? strides = null, int offset = 0)
    {
        _storage = data;
        Dtype = DType.Int32;
        ShapeArr = shape;
        StridesArr = strides ?? StridesCache.For(shape);
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
    }

    internal Tensor(double[] data, int[] shape, int[]? strides = null, int offset = 0)
    {
        _storage = data;
        Dtype = DType.Float64;
        ShapeArr = shape;
        StridesArr = strides ?? StridesCache.For(shape);
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
    }

    public DType Dtype { get; }

    /// <summary>Number of elements.</summary>
    public int Numel { get; }

    public int Rank => ShapeArr.Length;

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])ShapeArr.Clone();

    /// <summary>A copy of the strides, in elements.</summary>
    public int[] Strides => (int[])StridesArr.Clone();

    /// <summary>Size of one dim (negative dims count from the end).</summary>
    public int Size(int dim) => ShapeArr[ShapeUtil.Dim(dim, Rank, "Size")];

    /// <summary>Optional name, shown in errors and used by optimizers and checkpoints.</summary>
    public string? Name
    {
        get => _leaf?.Name;
        set
        {
            if (value is not null || _leaf is not null)
                Leaf.Name = value;
        }
    }

    /// <summary>Gradient accumulated by <see cref="Backward"/> (leaves only).</summary>
    public Tensor? Grad
    {
        get => _leaf?.Grad;
        set
        {
            if (value is not null || _leaf is not null)
                Leaf.Grad = value;
        }
    }

    private LeafState Leaf => _leaf ??= new LeafState();

    /// <summary>The fields of a tensor that op results never set.</summary>
    private sealed class LeafState
    {
        public string? Name;
        public Tensor? Grad;
        public Action<Tensor>? GradReadyHook;

        // The gradient that ZeroGrad set aside; the next backward into this leaf writes into its storage.
        public Tensor? RetiredGrad;
    }

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    internal Node? GradFn { get; set; }

    public bool IsLeaf => GradFn is null;

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only (parameters).</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null)
                throw new InvalidOperationException($"RequiresGrad can only be set on a leaf tensor; this one was produced by '{GradFn.Op}'. Use Detach() first.");
            if (value && Dtype == DType.Float64)
                throw new InvalidOperationException("only float32 tensors can require grad; this one is Float64, storage for no-grad statistics. Call Float() for a float32 copy that can.");
            if (value && Dtype != DType.Float32)
                throw new InvalidOperationException($"only float32 tensors can require grad; this one is {Dtype}");
            _requiresGrad = value;
        }
    }

    internal void MarkRequiresGrad() => _requiresGrad = true;

    public bool IsContiguous
    {
        get
        {
            if (Numel == 0)
                return true;
            int expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (ShapeArr[i] != 1 && StridesArr[i] != expected)
                    return false;
                expected *= ShapeArr[i];
            }
            return true;
        }
    }

    /// <summary>The elements of a contiguous fp32 tensor, in row-major order.</summary>
    internal Span<float> Span
    {
        get
        {
            if (G is not null)
                throw OnDevice("reading elements on the host");
            if (F is null)
                throw new InvalidOperationException($"expected a float32 tensor, got {Dtype}; call Float() first");
            if (!IsContiguous)
                throw new InvalidOperationException("internal: Span of a non-contiguous tensor; call Contiguous() first");
            return F.AsSpan(Offset, Numel);
        }
    }

    internal Span<int> IntSpan
    {
        get
        {
            if (G is not null)
                throw OnDevice("reading elements on the host");
            if (I is null)
                throw new InvalidOperationException($"expected an int32 tensor, got {Dtype}");
            if (!IsContiguous)
                throw new InvalidOperationException("internal: IntSpan of a non-contiguous tensor; call Contiguous() first");
            return I.AsSpan(Offset, Numel);
        }
    }

    internal Span<ushort> HalfSpan
    {
        get
        {
            if (G is not null)
                throw OnDevice("reading elements on the host");
            if (H is null)
                throw new InvalidOperationException($"expected a bfloat16 tensor, got {Dtype}");
            if (!IsContiguous)
                throw new InvalidOperationException("internal: HalfSpan of a non-contiguous tensor; call Contiguous() first");
            return H.AsSpan(Offset, Numel);
        }
    }

    // ---- creation ---------------------------------------------------------------------------

    public static Tensor Zeros(params int[] shape) => new(GradBuffers.RentZeroed(ShapeUtil.Numel(shape)), (int[])shape.Clone());

    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    public static Tensor Full(float value, params int[] shape)
    {
        var data = new float[ShapeUtil.Numel(shape)];
        Array.Fill(data, value);
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>Zeros of t's shape on t's device.</summary>
    public static Tensor ZerosLike(Tensor t) => t.G is null ? Zeros(t.ShapeArr) : t.Backend.Full(0f, (int[])t.ShapeArr.Clone());

    /// <summary>Ones of t's shape on t's device.</summary>
    public static Tensor OnesLike(Tensor t) => t.G is null ? Ones(t.ShapeArr) : t.Backend.Full(1f, (int[])t.ShapeArr.Clone());

    /// <summary>[0, 1, …, n-1] as float32.</summary>
    public static Tensor Arange(int n) => Arange(0, n, 1);

    /// <summary>start, start+step, … (exclusive of end) as float32.</summary>
    public static Tensor Arange(float start, float end, float step)
    {
        if (step == 0 || !float.IsFinite(start) || !float.IsFinite(end) || !float.IsFinite(step))
            throw new ArgumentException($"Arange: start ({start}), end ({end}) and step ({step}) must be finite and step non-zero");
        double count = Math.Ceiling(((double)end - start) / step);
        if (count > int.MaxValue)
            throw new ArgumentException($"Arange: {count} elements from {start} to {end} by {step} is more than {int.MaxValue}");
        int n = Math.Max(0, (int)count);
        var data = new float[n];
        for (int i = 0; i < n; i++)
            data[i] = start + (i * step);
        return new Tensor(data, [n]);
    }

    /// <summary>Wraps a copy of <paramref name="values"/> with the given shape (1-D if none given).</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        shape = shape.Length == 0 ? [values.Length] : (int[])shape.Clone();
        if (ShapeUtil.Numel(shape) != values.Length)
            throw new ShapeMismatchException("FromArray", $"{values.Length} values do not fill shape {ShapeUtil.Format(shape)}");
        return new Tensor((float[])values.Clone(), shape);
    }

    public static Tensor FromArray(int[] values, params int[] shape)
    {
        shape = shape.Length == 0 ? [values.Length] : (int[])shape.Clone();
        if (ShapeUtil.Numel(shape) != values.Length)
            throw new ShapeMismatchException("FromArray", $"{values.Length} values do not fill shape {ShapeUtil.Format(shape)}");
        return new Tensor((int[])values.Clone(), shape);
    }

    public static Tensor FromArray(float[,] values)
    {
        var data = new float[values.Length];
        int cols = values.GetLength(1);
        for (int r = 0; r < values.GetLength(0); r++)
            for (int c = 0; c < cols; c++)
                data[(r * cols) + c] = values[r, c];
        return new Tensor(data, [values.GetLength(0), cols]);
    }

    public static Tensor Scalar(float value) => new([value], []);

    /// <summary>Wraps existing bf16 bit patterns without copying.</summary>
    internal static Tensor WrapBFloat16(ushort[] data, int[] shape) => new(data, shape);

    /// <summary>Wraps an existing array without copying (the tensor then owns it).</summary>
    internal static Tensor Wrap(float[] data, params int[] shape) => new(data, shape);

    // ---- reading ----------------------------------------------------------------------------

    /// <summary>The elements in row-major order as float32 (bf16 and int32 converted, float64 rounded to nearest).</summary>
    public float[] ToArray()
    {
        if (G is not null)
            return Cpu().ToArray();
        return Float().Contiguous().Span.ToArray();
    }

    /// <summary>The elements of an int32 tensor in row-major order.</summary>
    public int[] ToIntArray()
    {
        if (Dtype != DType.Int32)
            throw new InvalidOperationException($"ToIntArray: tensor is {Dtype}, not Int32");
        if (G is not null)
            return Cpu().ToIntArray();
        return Contiguous().IntSpan.ToArray();
    }

    /// <summary>The value of a one-element tensor.</summary>
    /// <summary>
    /// The int32 elements in row-major order for reading only: the storage itself when the tensor
    /// covers all of it contiguously (ids and positions usually do), else a copy. Callers never write to it.
    /// </summary>
    internal int[] IntsForReading()
    {
        if (G is null && I is { } data && Offset == 0 && data.Length == Numel && IsContiguous)
            return data;
        return ToIntArray();
    }

    public float Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: tensor has shape {ShapeUtil.Format(ShapeArr)} ({Numel} elements); only one-element tensors have an item");
        return ToArray()[0];
    }

    /// <summary>Element at a full index as float32, float64 rounded to nearest (for tests and debugging; slow).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get
        {
            if (index.Length != Rank)
                throw new ArgumentException($"index has {index.Length} coordinates but the tensor has rank {Rank}");
            if (G is not null)
                return Cpu()[index];
            int off = Offset;
            for (int i = 0; i < Rank; i++)
            {
                if ((uint)index[i] >= (uint)ShapeArr[i])
                    throw new IndexOutOfRangeException($"index {index[i]} is out of range for dim {i} of size {ShapeArr[i]}");
                off += index[i] * StridesArr[i];
            }
            return Dtype switch
            {
                DType.Float32 => F![off],
                DType.BFloat16 => BFloat16.ToFloat(H![off]),
                DType.Int32 => I![off],
                DType.Float64 => (float)D![off],
                _ => throw UnknownDtype("Element"),
            };
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor(").Append(ShapeUtil.Format(ShapeArr)).Append(", ").Append(Dtype);
        if (G is not null)
            sb.Append(", ").Append(Device);
        if (RequiresGrad)
            sb.Append(", requires_grad");
        if (GradFn is not null)
            sb.Append(", grad_fn=").Append(GradFn.Op);
        sb.Append(')');
        if (Numel <= 16)
        {
            sb.Append(" [");
            var values = Dtype == DType.Float64
                ? ToDoubleArray().Select(v => v.ToString("G6", CultureInfo.InvariantCulture))
                : ToArray().Select(v => v.ToString("G6", CultureInfo.InvariantCulture));
            sb.Append(string.Join(", ", values));
            sb.Append(']');
        }
        return sb.ToString();
    }
}
