using RlhfSharp.Tensors.Autograd;
namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>This tensor if it is contiguous, else a contiguous copy (differentiable).</summary>
    public Tensor Contiguous() => IsContiguous ? this : Clone();

    /// <summary>A contiguous copy with its own storage, same dtype (differentiable for float32).</summary>
    public Tensor Clone()
    {
        Tensor result;
        if (G is not null)
        {
            result = G.Backend.Copy(this);
            return Dtype == DType.Float32 ? Record(result, "clone", [this], g => [g]) : result;
        }
        switch (Dtype)
        {
            case DType.Float32:
                var f = GradBuffers.Rent(Numel);
                StridedCopy.Copy(F!, Offset, ShapeArr, StridesArr, f);
                result = new Tensor(f, ShapeArr);
                break;
            case DType.BFloat16:
                var h = new ushort[Numel];
                StridedCopy.Copy(H!, Offset, ShapeArr, StridesArr, h);
                return new Tensor(h, ShapeArr);
            case DType.Int32:
                var ints = new int[Numel];
                StridedCopy.Copy(I!, Offset, ShapeArr, StridesArr, ints);
                return new Tensor(ints, ShapeArr);
            case DType.Float64:
                var doubles = new double[Numel];
                StridedCopy.Copy(D!, Offset, ShapeArr, StridesArr, doubles);
                return new Tensor(doubles, ShapeArr);
            default:
                throw UnknownDtype("Clone");
        }
        return Record(result, "clone", [this], g => [g]);
    }

    private Tensor ViewOf(int[] shape, int[] strides, int offset) => G is not null ? new Tensor(G, shape, strides, offset) : Dtype switch
    {
        DType.Float32 => new Tensor(F!, shape, strides, offset),
        DType.BFloat16 => new Tensor(H!, shape, strides, offset),
        DType.Int32 => new Tensor(I!, shape, strides, offset),
        DType.Float64 => new Tensor(D!, shape, strides, offset),
        _ => throw UnknownDtype("view"),
    };

    /// <summary>Same elements, new shape; one dim may be -1. A view when contiguous, else a copy.</summary>
    public Tensor Reshape(params int[] shape) => Reshape((ReadOnlySpan<int>)shape);

    /// <summary>Same elements, new shape; one dim may be -1. A view when contiguous, else a copy.</summary>
    public Tensor Reshape(params ReadOnlySpan<int> shape) => ReshapeTo(InferShape(shape));

    // Reshape to `shape`, which the result owns from here on (callers pass a new array or another tensor's shape, never written).
    private Tensor ReshapeTo(int[] shape)
    {
        var src = Contiguous();
        var result = src.ViewOf(shape, StridesCache.For(shape), src.Offset);
        return Record(result, "reshape", [src], g => [g.ReshapeTo(src.ShapeArr)]);
    }

    /// <summary>Alias of <see cref="Reshape"/>.</summary>
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Merges dims start..end (inclusive) into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        int s = ShapeUtil.Dim(startDim, Math.Max(Rank, 1), "Flatten");
        int e = ShapeUtil.Dim(endDim, Math.Max(Rank, 1), "Flatten");
        if (Rank == 0)
            return Reshape(1);
        var shape = new List<int>();
        for (int i = 0; i < s; i++)
            shape.Add(ShapeArr[i]);
        int merged = 1;
        for (int i = s; i <= e; i++)
            merged *= ShapeArr[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++)
            shape.Add(ShapeArr[i]);
        return Reshape([.. shape]);
    }

    private int[] InferShape(ReadOnlySpan<int> requested)
    {
        var shape = requested.ToArray();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0)
                    throw new ShapeMismatchException("Reshape", $"only one dim may be -1, got {ShapeUtil.Format(shape)}");
                infer = i;
            }
            else if (shape[i] < 0)
            {
                throw new ShapeMismatchException("Reshape", $"invalid size {shape[i]} in {ShapeUtil.Format(shape)}");
            }
            else
            {
                known *= shape[i];
            }
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0)
                throw new ShapeMismatchException("Reshape", $"cannot reshape {ShapeUtil.Format(ShapeArr)} ({Numel} elements) to {ShapeUtil.Format(shape)}");
            shape[infer] = (int)(Numel / known);
            known *= shape[infer];
        }
        if (known != Numel)
            throw new ShapeMismatchException("Reshape", $"cannot reshape {ShapeUtil.Format(ShapeArr)} ({Numel} elements) to {ShapeUtil.Format(shape)} ({known} elements)");
        return shape;
    }

    /// <summary>Swaps two dims (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int a = ShapeUtil.Dim(dim0, Rank, "Transpose");
        int b = ShapeUtil.Dim(dim1, Rank, "Transpose");
        var shape = (int[])ShapeArr.Clone();
        var strides = (int[])StridesArr.Clone();
        (shape[a], shape[b]) = (shape[b], shape[a]);
        (strides[a], strides[b]) = (strides[b], strides[a]);
        // A swap is its own inverse.
        return Record(ViewOf(shape, strides, Offset), "permute", [this], g => [g.Transpose(a, b)]);
    }

    /// <summary>Transpose of a 2-D tensor (a view).</summary>
    public Tensor T
    {
        get
        {
            if (Rank != 2)
                throw new ShapeMismatchException("T", $"expects a 2-D tensor, got shape {ShapeUtil.Format(ShapeArr)}; use Transpose(dim0, dim1)");
            return Transpose(0, 1);
        }
    }

    /// <summary>Reorders dims (a view): result dim i is input dim perm[i].</summary>
    public Tensor Permute(params int[] perm)
    {
        if (perm.Length != Rank)
            throw new ShapeMismatchException("Permute", $"permutation {ShapeUtil.Format(perm)} has {perm.Length} dims but the tensor {ShapeUtil.Format(ShapeArr)} has {Rank}");
        Span<bool> seen = stackalloc bool[Rank];
        Span<int> p = stackalloc int[Rank];
        var shape = new int[Rank];
        var strides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            p[i] = ShapeUtil.Dim(perm[i], Rank, "Permute");
            if (seen[p[i]])
                throw new ShapeMismatchException("Permute", $"dim {p[i]} appears twice in {ShapeUtil.Format(perm)}");
            seen[p[i]] = true;
            shape[i] = ShapeArr[p[i]];
            strides[i] = StridesArr[p[i]];
        }
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++)
            inverse[p[i]] = i;
        return Record(ViewOf(shape, strides, Offset), "permute", [this], g => [g.Permute(inverse)]);
    }

    /// <summary>Elements start..start+length-1 along <paramref name="dim"/> (a view).</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = ShapeUtil.Dim(dim, Rank, "Narrow");
        if (start < 0 || length < 0 || start + length > ShapeArr[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {start + length}) is outside dim {d} of size {ShapeArr[d]} in shape {ShapeUtil.Format(ShapeArr)}");
        var shape = (int[])ShapeArr.Clone();
        shape[d] = length;
        var inShape = ShapeArr;
        return Record(ViewOf(shape, StridesArr, Offset + (start * StridesArr[d])), "narrow", [this], g =>
        {
            if (g.G is not null)
            {
                // Device: zeros with g written into its slice.
                var dfull = g.Backend.Full(0f, (int[])inShape.Clone());
                dfull.NarrowNoGrad(d, start, length).CopyFrom(g);
                return [dfull];
            }
            // Only the slices outside [start, start + length) are zeroed; the rest is g.
            var full = new Tensor(GradBuffers.Rent(ShapeUtil.Numel(inShape)), inShape);
            var zero = Scalar(0f);
            if (start > 0)
                full.NarrowNoGrad(d, 0, start).CopyFrom(zero);
            if (start + length < inShape[d])
                full.NarrowNoGrad(d, start + length, inShape[d] - start - length).CopyFrom(zero);
            full.NarrowNoGrad(d, start, length).CopyFrom(g);
            return [full];
        });
    }

    /// <summary>Python-style slice [start:end] along a dim; negative indices count from the end.</summary>
    public Tensor Slice(int dim, int start, int end)
    {
        int d = ShapeUtil.Dim(dim, Rank, "Slice");
        int n = ShapeArr[d];
        if (start < 0)
            start += n;
        if (end < 0)
            end += n;
        start = Math.Clamp(start, 0, n);
        end = Math.Clamp(end, start, n);
        return Narrow(d, start, end - start);
    }

    /// <summary>Index <paramref name="index"/> along <paramref name="dim"/>, removing that dim (a view).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = ShapeUtil.Dim(dim, Rank, "Select");
        if (index < 0)
            index += ShapeArr[d];
        return Narrow(d, index, 1).Squeeze(d);
    }

    internal Tensor NarrowNoGrad(int d, int start, int length)
    {
        var shape = (int[])ShapeArr.Clone();
        shape[d] = length;
        return ViewOf(shape, StridesArr, Offset + (start * StridesArr[d]));
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> (a view).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.Dim(dim, Rank + 1, "Unsqueeze");
        var shape = new List<int>(ShapeArr);
        var strides = new List<int>(StridesArr);
        shape.Insert(d, 1);
        strides.Insert(d, d < Rank ? StridesArr[d] * ShapeArr[d] : 1);
        var inShape = ShapeArr;
        return Record(ViewOf([.. shape], [.. strides], Offset), "unsqueeze", [this], g => [g.Reshape(inShape)]);
    }

    /// <summary>Removes size-1 dims: all of them, or just <paramref name="dim"/> (a view).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        var shape = new List<int>();
        var strides = new List<int>();
        int only = dim is int dd ? ShapeUtil.Dim(dd, Rank, "Squeeze") : -1;
        for (int i = 0; i < Rank; i++)
        {
            bool drop = ShapeArr[i] == 1 && (only < 0 || only == i);
            if (!drop)
            {
                shape.Add(ShapeArr[i]);
                strides.Add(StridesArr[i]);
            }
        }
        var inShape = ShapeArr;
        return Record(ViewOf([.. shape], [.. strides], Offset), "squeeze", [this], g => [g.Reshape(inShape)]);
    }

    /// <summary>Broadcasts size-1 dims to <paramref name="shape"/> without copying (stride 0); -1 keeps a dim.</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Rank)
            throw new ShapeMismatchException("Expand", $"cannot expand {ShapeUtil.Format(ShapeArr)} to fewer dims {ShapeUtil.Format(shape)}");
        var outShape = new int[shape.Length];
        var strides = new int[shape.Length];
        int lead = shape.Length - Rank;
        for (int i = 0; i < shape.Length; i++)
        {
            int src = i - lead;
            int have = src >= 0 ? ShapeArr[src] : 1;
            int want = shape[i] == -1 && src >= 0 ? have : shape[i];
            if (want < 0)
                throw new ShapeMismatchException("Expand", $"cannot expand {ShapeUtil.Format(ShapeArr)} to {ShapeUtil.Format(shape)}: size {shape[i]} in dim {i} is invalid (-1 keeps an existing dim only)");
            if (src >= 0 && have != 1 && have != want)
                throw new ShapeMismatchException("Expand", $"cannot expand {ShapeUtil.Format(ShapeArr)} to {ShapeUtil.Format(shape)}: dim {i} is {have}, not 1");
            outShape[i] = want;
            strides[i] = src >= 0 && have == want ? StridesArr[src] : 0;
        }
        var inShape = ShapeArr;
        return Record(ViewOf(outShape, strides, Offset), "expand", [this], g => [g.SumToShape(inShape)]);
    }

    /// <summary>Writes <paramref name="src"/> (broadcast to this view's shape) into this tensor's storage. Not recorded.</summary>
    internal void CopyFrom(Tensor src)
    {
        var s = src.Dtype == DType.Float32 ? src : src.Float();
        if (!ShapeUtil.SameShape(s.ShapeArr, ShapeArr))
            s = s.Expand(ShapeArr);
        if (G is not null || s.G is not null)
        {
            if (G is null)
                throw new DeviceMismatchException($"CopyFrom: source on {s.Device}, destination on the cpu; bring the source to the host with Cpu()");
            // Through a contiguous copy on the device (a host source is sent there), so a source
            // that overlaps the destination is read first.
            var onDevice = s.G is null ? s.Detach().Contiguous().To(Device) : s.Detach().Clone();
            G.Backend.CopyInto(onDevice, this);
            return;
        }
        if (!ReferenceEquals(s.F, F))
        {
            // Separate storage: copy view to view directly.
            StridedCopy.CopyStrided(s.F!, s.Offset, s.StridesArr, F!, Offset, StridesArr, ShapeArr);
            return;
        }
        var values = GradBuffers.RentZeroed(Numel);
        StridedCopy.Copy(s.F!, s.Offset, s.ShapeArr, s.StridesArr, values);
        ScatterInto(values);
    }

    private void ScatterInto(float[] values)
    {
        if (IsContiguous)
        {
            values.CopyTo(F!.AsSpan(Offset, Numel));
            return;
        }
        int pos = 0;
        Scatter(F!, Offset, 0, values, ref pos);
    }

    private void Scatter(float[] dst, int offset, int dim, float[] values, ref int pos)
    {
        if (Rank == 0)
        {
            dst[offset] = values[0];
            return;
        }
        int n = ShapeArr[dim];
        int stride = StridesArr[dim];
        for (int i = 0; i < n; i++)
        {
            if (dim == Rank - 1)
                dst[offset + (i * stride)] = values[pos++];
            else
                Scatter(dst, offset + (i * stride), dim + 1, values, ref pos);
        }
    }

    /// <summary>
    /// A float32 copy: bf16 and int32 converted, float64 rounded to the nearest float32 (exactly
    /// <c>(float)d</c> per element); float32 returned as is. Ops that compute read every other
    /// dtype through this.
    /// </summary>
    public Tensor Float()
    {
        if (Dtype == DType.Float32)
            return this;
        if (G is not null)
            return DeviceFloat();
        var c = Contiguous();
        var data = GradBuffers.RentZeroed(Numel);
        switch (Dtype)
        {
            case DType.BFloat16:
                BFloat16.ToFloat(c.HalfSpan, data);
                break;
            case DType.Int32:
                var ints = c.IntSpan;
                for (int i = 0; i < data.Length; i++)
                    data[i] = ints[i];
                break;
            case DType.Float64:
                var doubles = c.DoubleSpan;
                for (int i = 0; i < data.Length; i++)
                    data[i] = (float)doubles[i];
                break;
            default:
                throw UnknownDtype("Float");
        }
        return new Tensor(data, ShapeArr);
    }

    /// <summary>A bf16 copy for storage of frozen weights, rounded to nearest even (not differentiable).</summary>
    public Tensor ToBFloat16()
    {
        if (Dtype == DType.BFloat16)
            return this;
        if (G is not null)
            return G.Backend.ToBFloat16(DeviceFloat());
        var data = new ushort[Numel];
        if (Dtype == DType.Float64)
        {
            // Rounded once from the double, not via float32 (which could round twice).
            var doubles = Contiguous().DoubleSpan;
            for (int i = 0; i < data.Length; i++)
                data[i] = BFloat16FromDouble(doubles[i]);
            return new Tensor(data, ShapeArr);
        }
        var c = Float().Contiguous();
        BFloat16.FromFloat(c.Span, data);
        return new Tensor(data, ShapeArr);
    }

    /// <summary>An int32 copy (values truncated toward zero).</summary>
    public Tensor ToInt32()
    {
        if (Dtype == DType.Int32)
            return this;
        if (G is not null)
            throw OnDevice("ToInt32");
        var data = new int[Numel];
        if (Dtype == DType.Float64)
        {
            // Truncated from the double itself: via float32, 16777217.5 would become 16777216.
            var doubles = Contiguous().DoubleSpan;
            for (int i = 0; i < data.Length; i++)
                data[i] = (int)doubles[i];
            return new Tensor(data, ShapeArr);
        }
        var f = Float().Contiguous().Span;
        for (int i = 0; i < data.Length; i++)
            data[i] = (int)f[i];
        return new Tensor(data, ShapeArr);
    }
}
