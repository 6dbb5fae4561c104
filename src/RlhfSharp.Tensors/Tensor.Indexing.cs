using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (as torch.gather); float64 stays float64
    /// (exact, no grad), other dtypes give float32. x [.., n, ..], index int32 [.., m, ..] -> [.., m, ..]
    /// </summary>
    public Tensor Gather(int dim, Tensor index)
    {
        int d = ShapeUtil.Dim(dim, Rank, "Gather");
        RequireInt(index, "Gather", "index");
        if (index.Rank != Rank)
            throw new ShapeMismatchException("Gather", $"index rank {index.Rank} ({ShapeUtil.Format(index.ShapeArr)}) must equal input rank {Rank} ({ShapeUtil.Format(ShapeArr)})");
        for (int i = 0; i < Rank; i++)
        {
            if (i != d && index.ShapeArr[i] != ShapeArr[i])
                throw new ShapeMismatchException("Gather", $"index shape {ShapeUtil.Format(index.ShapeArr)} must match input shape {ShapeUtil.Format(ShapeArr)} except in dim {d}");
        }
        if (G is not null || index.G is not null)
            return DeviceGather(d, index, perElement: true);
        var idx = index.Contiguous().IntSpan.ToArray();
        var outShape = (int[])index.ShapeArr.Clone();
        int n = ShapeArr[d], m = outShape[d];
        int inner = 1;
        for (int i = d + 1; i < Rank; i++)
            inner *= ShapeArr[i];
        int outer = idx.Length / Math.Max(m * inner, 1);
        if (Dtype == DType.Float64)
        {
            var doubles = new double[idx.Length];
            GatherAlong<double>(Contiguous().DoubleSpan, idx, doubles, d, outer, m, n, inner);
            return new Tensor(doubles, outShape);
        }
        var result = GradBuffers.RentZeroed(idx.Length);
        GatherAlong<float>(Float().Detach().Contiguous().Span, idx, result, d, outer, m, n, inner);
        var inShape = ShapeArr;
        return Record(new Tensor(result, outShape), "gather", [this], g =>
        {
            var gd = g.Contiguous().Span;
            var full = GradBuffers.RentZeroed(ShapeUtil.Numel(inShape));
            for (int p = 0; p < idx.Length; p++)
            {
                int k = p % inner, o = p / (m * inner);
                full[(((o * n) + idx[p]) * inner) + k] += gd[p];
            }
            return [new Tensor(full, (int[])inShape.Clone())];
        });
    }

    /// <summary>result[o, j, k] = src[o, idx[o, j, k], k] over contiguous [outer, n, inner] → [outer, m, inner].</summary>
    private static void GatherAlong<T>(ReadOnlySpan<T> src, int[] idx, Span<T> result, int d, int outer, int m, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < m; j++)
            {
                for (int k = 0; k < inner; k++)
                {
                    int p = (((o * m) + j) * inner) + k;
                    int v = idx[p];
                    if ((uint)v >= (uint)n)
                        throw new IndexOutOfRangeException($"Gather: index {v} is out of range for dim {d} of size {n}");
                    result[p] = src[(((o * n) + v) * inner) + k];
                }
            }
        }
    }

    /// <summary>
    /// Selects entries along <paramref name="dim"/> by a 1-D int32 index (bf16 inputs give float32;
    /// int32 and float64 keep their dtype, exact and without grad); repeated indices accumulate their
    /// gradients. [.., n, ..] -> [.., len(index), ..]
    /// </summary>
    // Int32 rows gathered as they are (token ids stay ids). [.., n, ..] -> [.., len(index), ..]
    private static Tensor IndexSelectInt32(Tensor x, int[] idx, int[] outShape, int outer, int n, int inner)
    {
        int m = idx.Length;
        var result = new int[outer * m * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
                x.I.AsSpan(x.Offset + (((o * n) + idx[j]) * inner), inner).CopyTo(result.AsSpan(((o * m) + j) * inner, inner));
        return new Tensor(result, outShape);
    }

    public Tensor IndexSelect(int dim, Tensor index)
    {
        int d = ShapeUtil.Dim(dim, Rank, "IndexSelect");
        RequireInt(index, "IndexSelect", "index");
        if (index.Rank != 1)
            throw new ShapeMismatchException("IndexSelect", $"index must be 1-D, got {ShapeUtil.Format(index.ShapeArr)} for input {ShapeUtil.Format(ShapeArr)}");
        if (G is not null || index.G is not null)
            return DeviceGather(d, index, perElement: false);
        var idx = index.Contiguous().IntSpan.ToArray();
        int n = ShapeArr[d], m = idx.Length;
        foreach (var v in idx)
        {
            if ((uint)v >= (uint)n)
                throw new IndexOutOfRangeException($"IndexSelect: index {v} is out of range for dim {d} of size {n}");
        }
        var (outer, inner) = OuterInner(ShapeArr, d);
        var outShape = (int[])ShapeArr.Clone();
        outShape[d] = m;
        var x = Detach().Contiguous();
        if (x.Dtype == DType.Float64)
            return IndexSelectFloat64(x, idx, outShape, outer, n, inner);
        if (x.Dtype == DType.Int32)
            return IndexSelectInt32(x, idx, outShape, outer, n, inner);
        var result = GradBuffers.RentZeroed(outer * m * inner);
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < m; j++)
            {
                int src = x.Offset + (((o * n) + idx[j]) * inner);
                var dst = result.AsSpan(((o * m) + j) * inner, inner);
                switch (x.Dtype)
                {
                    case DType.Float32: x.F.AsSpan(src, inner).CopyTo(dst); break;
                    case DType.BFloat16: BFloat16.ToFloat(x.H.AsSpan(src, inner), dst); break;
                    default: throw UnknownDtype("IndexSelect");
                }
            }
        }
        var inShape = ShapeArr;
        return Record(new Tensor(result, outShape), "index_select", [this], g =>
        {
            var gv = g.Contiguous().Span;
            var full = GradBuffers.RentZeroed(ShapeUtil.Numel(inShape));
            for (int o = 0; o < outer; o++)
            {
                for (int j = 0; j < m; j++)
                {
                    var dst = full.AsSpan(((o * n) + idx[j]) * inner, inner);
                    TensorPrimitives.Add(dst, gv.Slice(((o * m) + j) * inner, inner), dst);
                }
            }
            return [new Tensor(full, (int[])inShape.Clone())];
        });
    }

    /// <summary>Product of the dims before and after <paramref name="d"/>.</summary>
    private static (int Outer, int Inner) OuterInner(int[] shape, int d)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < d; i++)
            outer *= shape[i];
        for (int i = d + 1; i < shape.Length; i++)
            inner *= shape[i];
        return (outer, inner);
    }

    /// <summary>
    /// Sets positions where <paramref name="mask"/> is nonzero (broadcast to this shape) to
    /// <paramref name="value"/>; any value, including ±∞ and NaN, and any input (±∞ and NaN
    /// included) is selected exactly. Filled positions get no gradient. On a Float64 tensor the
    /// result is Float64, the value widened exactly (no gradient). [..] -> [..]
    /// </summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        if (Dtype == DType.Float64)
            return MaskedFill(mask, (double)value);
        CheckMaskShape(mask);
        if (G is not null || mask.G is not null)
            return DeviceMaskedFill(mask, value);
        var fill = NonZero(mask, ShapeArr);
        var x = Float().Detach().Contiguous().Span;
        var result = GradBuffers.RentZeroed(x.Length);
        for (int i = 0; i < result.Length; i++)
            result[i] = fill[i] ? value : x[i];
        var shape = ShapeArr;
        return Record(new Tensor(result, (int[])shape.Clone()), "masked_fill", [this], g => [Choose(fill, null, g, shape)]);
    }

    private void CheckMaskShape(Tensor mask)
    {
        if (!ShapeUtil.TryBroadcast(ShapeArr, mask.ShapeArr, out var outShape) || !ShapeUtil.SameShape(outShape, ShapeArr))
            throw new ShapeMismatchException("MaskedFill", $"mask {ShapeUtil.Format(mask.ShapeArr)} must broadcast to the input shape {ShapeUtil.Format(ShapeArr)}");
    }

    /// <summary>
    /// Element-wise choice: a where cond is nonzero, else b (all three broadcast). When a or b is
    /// Float64 the result is Float64, both read exactly (no gradient; a float32 side that requires
    /// grad then throws). -> broadcast shape
    /// </summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        if (!ShapeUtil.TryBroadcast(cond.ShapeArr, a.ShapeArr, out var ca) || !ShapeUtil.TryBroadcast(ca, b.ShapeArr, out var shape))
            throw new ShapeMismatchException("Where", $"condition {ShapeUtil.Format(cond.ShapeArr)}, a {ShapeUtil.Format(a.ShapeArr)} and b {ShapeUtil.Format(b.ShapeArr)} cannot be broadcast together");
        if (cond.G is not null || a.G is not null || b.G is not null)
            return DeviceWhere(cond, a, b, shape);
        var c = NonZero(cond, shape);
        if (a.Dtype == DType.Float64 || b.Dtype == DType.Float64)
            return Record(WhereFloat64(c, a, b, shape), "where", [a, b], _ => throw new InvalidOperationException("internal: a Float64 where has no backward"));
        var av = a.Float().Detach().Expand(shape).Contiguous().Span;
        var bv = b.Float().Detach().Expand(shape).Contiguous().Span;
        var result = GradBuffers.RentZeroed(c.Length);
        for (int i = 0; i < result.Length; i++)
            result[i] = c[i] ? av[i] : bv[i];
        return Record(new Tensor(result, shape), "where", [a, b], g =>
        [
            a.RequiresGrad ? Choose(c, g, null, shape).SumToShape(a.ShapeArr) : null,
            b.RequiresGrad ? Choose(c, null, g, shape).SumToShape(b.ShapeArr) : null,
        ]);
    }

    /// <summary>Where <paramref name="c"/> is true take <paramref name="ifTrue"/>, else <paramref name="ifFalse"/>; a null side means 0. All have <paramref name="shape"/>.</summary>
    private static Tensor Choose(bool[] c, Tensor? ifTrue, Tensor? ifFalse, int[] shape)
    {
        var t = ifTrue is null ? default : ifTrue.Contiguous().Span;
        var f = ifFalse is null ? default : ifFalse.Contiguous().Span;
        var result = GradBuffers.RentZeroed(c.Length);
        for (int i = 0; i < result.Length; i++)
        {
            if (c[i])
                result[i] = ifTrue is null ? 0f : t[i];
            else
                result[i] = ifFalse is null ? 0f : f[i];
        }
        return new Tensor(result, (int[])shape.Clone());
    }

    /// <summary>Which elements of <paramref name="mask"/> (any dtype), broadcast to <paramref name="shape"/>, are nonzero.</summary>
    private static bool[] NonZero(Tensor mask, int[] shape)
    {
        var m = mask.Detach().Expand(shape).Contiguous();
        var result = new bool[m.Numel];
        switch (m.Dtype)
        {
            case DType.Float32:
                var f = m.Span;
                for (int i = 0; i < result.Length; i++)
                    result[i] = f[i] != 0;
                break;
            case DType.BFloat16:
                var h = m.HalfSpan;
                for (int i = 0; i < result.Length; i++)
                    result[i] = (h[i] & 0x7FFF) != 0;
                break;
            case DType.Int32:
                var n = m.IntSpan;
                for (int i = 0; i < result.Length; i++)
                    result[i] = n[i] != 0;
                break;
            case DType.Float64:
                var d = m.DoubleSpan;
                for (int i = 0; i < result.Length; i++)
                    result[i] = d[i] != 0;
                break;
            default:
                throw m.UnknownDtype("mask");
        }
        return result;
    }

    /// <summary>Joins tensors of one dtype (kept) along an existing dim. [.., n_i, ..] -> [.., Σn_i, ..]</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0)
            throw new ArgumentException("Cat: needs at least one tensor");
        var first = tensors[0];
        int d = ShapeUtil.Dim(dim, first.Rank, "Cat");
        var dtype = first.Dtype;
        int total = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank || t.Dtype != dtype)
                throw new ShapeMismatchException("Cat", $"all tensors need the same rank and dtype; got {ShapeUtil.Format(first.ShapeArr)} {dtype} and {ShapeUtil.Format(t.ShapeArr)} {t.Dtype}");
            for (int i = 0; i < first.Rank; i++)
            {
                if (i != d && t.ShapeArr[i] != first.ShapeArr[i])
                    throw new ShapeMismatchException("Cat", $"shapes {ShapeUtil.Format(first.ShapeArr)} and {ShapeUtil.Format(t.ShapeArr)} differ outside dim {d}");
            }
            total += t.ShapeArr[d];
        }
        var shape = (int[])first.ShapeArr.Clone();
        shape[d] = total;
        var device = DeviceOf("Cat", [.. tensors]);
        if (device is not null)
            return DeviceCat(device, tensors, d, shape);
        int outer = 1;
        for (int i = 0; i < d; i++)
            outer *= shape[i];
        int inner = 1;
        for (int i = d + 1; i < shape.Length; i++)
            inner *= shape[i];
        Tensor result = dtype switch
        {
            DType.Float32 => new Tensor(new float[ShapeUtil.Numel(shape)], shape),
            DType.BFloat16 => new Tensor(new ushort[ShapeUtil.Numel(shape)], shape),
            DType.Int32 => new Tensor(new int[ShapeUtil.Numel(shape)], shape),
            DType.Float64 => new Tensor(new double[ShapeUtil.Numel(shape)], shape),
            _ => throw first.UnknownDtype("Cat"),
        };
        int offset = 0;
        foreach (var t in tensors)
        {
            int chunk = t.ShapeArr[d] * inner;
            var c = t.Detach().Contiguous();
            for (int o = 0; o < outer; o++)
            {
                int dst = (o * total * inner) + (offset * inner);
                switch (dtype)
                {
                    case DType.Float32: c.F!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.F!.AsSpan(dst, chunk)); break;
                    case DType.BFloat16: c.H!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.H!.AsSpan(dst, chunk)); break;
                    case DType.Int32: c.I!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.I!.AsSpan(dst, chunk)); break;
                    case DType.Float64: c.D!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.D!.AsSpan(dst, chunk)); break;
                }
            }
            offset += t.ShapeArr[d];
        }
        if (dtype != DType.Float32)
            return result;
        var sizes = tensors.Select(t => t.ShapeArr[d]).ToArray();
        return Record(result, "cat", [.. tensors], g =>
        {
            var grads = new Tensor?[sizes.Length];
            int start = 0;
            for (int i = 0; i < sizes.Length; i++)
            {
                grads[i] = g.NarrowNoGrad(d, start, sizes[i]).Contiguous();
                start += sizes[i];
            }
            return grads;
        });
    }

    /// <summary>Joins same-shape tensors along a new dim. k × [..] -> [.., k, ..]</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0)
            throw new ArgumentException("Stack: needs at least one tensor");
        int d = ShapeUtil.Dim(dim, tensors[0].Rank + 1, "Stack");
        foreach (var t in tensors)
        {
            if (!ShapeUtil.SameShape(t.ShapeArr, tensors[0].ShapeArr))
                throw new ShapeMismatchException("Stack", $"all tensors need the same shape; got {ShapeUtil.Format(tensors[0].ShapeArr)} and {ShapeUtil.Format(t.ShapeArr)}");
        }
        return Cat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Lower-triangular mask (1 on and below diagonal + <paramref name="diagonal"/>). -> [rows, cols]</summary>
    public static Tensor Tril(int rows, int cols, int diagonal = 0)
    {
        CheckMaskSize(rows, cols, "Tril");
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[(i * cols) + j] = j - i <= diagonal ? 1f : 0f;
        return new Tensor(data, [rows, cols]);
    }

    /// <summary>Upper-triangular mask (1 on and above diagonal + <paramref name="diagonal"/>). -> [rows, cols]</summary>
    public static Tensor Triu(int rows, int cols, int diagonal = 0)
    {
        CheckMaskSize(rows, cols, "Triu");
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[(i * cols) + j] = j - i >= diagonal ? 1f : 0f;
        return new Tensor(data, [rows, cols]);
    }

    /// <summary>Keeps the lower triangle of the last two dims, zeroing the rest (differentiable). [.., r, c] -> [.., r, c]</summary>
    public Tensor Tril(int diagonal = 0) => Mul(Tril(MatrixDims("Tril").Rows, MatrixDims("Tril").Cols, diagonal));

    /// <summary>Keeps the upper triangle of the last two dims, zeroing the rest (differentiable). [.., r, c] -> [.., r, c]</summary>
    public Tensor Triu(int diagonal = 0) => Mul(Triu(MatrixDims("Triu").Rows, MatrixDims("Triu").Cols, diagonal));

    private (int Rows, int Cols) MatrixDims(string op) => Rank >= 2
        ? (ShapeArr[^2], ShapeArr[^1])
        : throw new ShapeMismatchException(op, $"needs a tensor of rank >= 2, got shape {ShapeUtil.Format(ShapeArr)}");

    private static void CheckMaskSize(int rows, int cols, string op)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentException($"{op}: rows ({rows}) and cols ({cols}) must be non-negative");
    }

    private static void RequireInt(Tensor t, string op, string what)
    {
        if (t.Dtype != DType.Int32)
            throw new ArgumentException($"{op}: {what} must be an Int32 tensor, got {t.Dtype} with shape {ShapeUtil.Format(t.ShapeArr)}");
    }
}
