namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (as torch.gather). x [.., n, ..], index int32 [.., m, ..] -> [.., m, ..]
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
        var x = Float().Contiguous();
        var idx = index.Contiguous().IntSpan.ToArray();
        var outShape = (int[])index.ShapeArr.Clone();
        int n = ShapeArr[d], m = outShape[d];
        int inner = 1;
        for (int i = d + 1; i < Rank; i++)
            inner *= ShapeArr[i];
        int outer = idx.Length / Math.Max(m * inner, 1);
        var src = x.Span;
        var result = new float[idx.Length];
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
        var inShape = ShapeArr;
        return Record(new Tensor(result, outShape), "gather", [this], g =>
        {
            var gd = g.Contiguous().Span;
            var full = new float[ShapeUtil.Numel(inShape)];
            for (int p = 0; p < idx.Length; p++)
            {
                int k = p % inner, o = p / (m * inner);
                full[(((o * n) + idx[p]) * inner) + k] += gd[p];
            }
            return [new Tensor(full, (int[])inShape.Clone())];
        });
    }

    /// <summary>Selects entries along <paramref name="dim"/> by a 1-D int32 index. [.., n, ..] -> [.., len(index), ..]</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        int d = ShapeUtil.Dim(dim, Rank, "IndexSelect");
        RequireInt(index, "IndexSelect", "index");
        if (index.Rank != 1)
            throw new ShapeMismatchException("IndexSelect", $"index must be 1-D, got {ShapeUtil.Format(index.ShapeArr)}");
        var idx = index.Contiguous().IntSpan.ToArray();
        int n = ShapeArr[d];
        foreach (var v in idx)
        {
            if ((uint)v >= (uint)n)
                throw new IndexOutOfRangeException($"IndexSelect: index {v} is out of range for dim {d} of size {n}");
        }
        var parts = idx.Select(v => NarrowNoGrad(d, v, 1)).ToArray();
        Tensor result;
        using (Autograd.GradMode.NoGrad())
            result = parts.Length == 0 ? Zeros(ShapeArr.Select((s, i) => i == d ? 0 : s).ToArray()) : Cat(parts, d).Float();
        var inShape = ShapeArr;
        return Record(result, "index_select", [this], g =>
        {
            var full = Zeros(inShape);
            for (int j = 0; j < idx.Length; j++)
            {
                var dst = full.NarrowNoGrad(d, idx[j], 1);
                dst.CopyFrom(Binary(dst, g.NarrowNoGrad(d, j, 1), BinaryOp.Add, "index_select"));
            }
            return [full];
        });
    }

    /// <summary>Sets positions where <paramref name="mask"/> is nonzero (broadcast) to <paramref name="value"/>. [..] -> [..]</summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        var m = mask.Float();
        var keep = m.Map(v => v != 0 ? 0f : 1f);
        var x = Float();
        var outShape = ShapeUtil.Broadcast(ShapeArr, m.ShapeArr, "MaskedFill");
        if (!ShapeUtil.SameShape(outShape, ShapeArr))
            throw new ShapeMismatchException("MaskedFill", $"mask {ShapeUtil.Format(m.ShapeArr)} must broadcast to the input shape {ShapeUtil.Format(ShapeArr)}");
        var fill = m.Map(v => v != 0 ? value : 0f);
        var result = Binary(Binary(x, keep, BinaryOp.Mul, "MaskedFill"), fill, BinaryOp.Add, "MaskedFill");
        if (float.IsInfinity(value) || float.IsNaN(value))
        {
            // x·0 + ±inf is fine, but x·0 is NaN where x is ±inf; rebuild those positions exactly.
            var src = Binary(x, Zeros(outShape), BinaryOp.Add, "MaskedFill").Span;
            var mk = Binary(m, Zeros(outShape), BinaryOp.Add, "MaskedFill").Span;
            var r = result.Span;
            for (int i = 0; i < r.Length; i++)
                r[i] = mk[i] != 0 ? value : src[i];
        }
        return Record(result, "masked_fill", [this], g => [Binary(g, keep, BinaryOp.Mul, "MaskedFill").SumToShape(ShapeArr)]);
    }

    /// <summary>Element-wise choice: a where cond is nonzero, else b (all broadcast). -> broadcast shape</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        var c = cond.Float().Map(v => v != 0 ? 1f : 0f);
        var notC = c.Map(v => 1f - v);
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(c.ShapeArr, a.ShapeArr, "Where"), b.ShapeArr, "Where");
        var av = Binary(a.Float(), Zeros(shape), BinaryOp.Add, "Where").Span;
        var bv = Binary(b.Float(), Zeros(shape), BinaryOp.Add, "Where").Span;
        var cv = Binary(c, Zeros(shape), BinaryOp.Add, "Where").Span;
        var result = new float[av.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = cv[i] != 0 ? av[i] : bv[i];
        return Record(new Tensor(result, shape), "where", [a, b], g =>
        [
            Binary(g, c, BinaryOp.Mul, "Where").SumToShape(a.ShapeArr),
            Binary(g, notC, BinaryOp.Mul, "Where").SumToShape(b.ShapeArr),
        ]);
    }

    /// <summary>Joins tensors along an existing dim. [.., n_i, ..] -> [.., Σn_i, ..]</summary>
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
            _ => new Tensor(new int[ShapeUtil.Numel(shape)], shape),
        };
        int offset = 0;
        foreach (var t in tensors)
        {
            int chunk = t.ShapeArr[d] * inner;
            var c = t.Contiguous();
            for (int o = 0; o < outer; o++)
            {
                int dst = (o * total * inner) + (offset * inner);
                switch (dtype)
                {
                    case DType.Float32: c.F!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.F!.AsSpan(dst, chunk)); break;
                    case DType.BFloat16: c.H!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.H!.AsSpan(dst, chunk)); break;
                    default: c.I!.AsSpan(c.Offset + (o * chunk), chunk).CopyTo(result.I!.AsSpan(dst, chunk)); break;
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
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[(i * cols) + j] = j - i <= diagonal ? 1f : 0f;
        return new Tensor(data, [rows, cols]);
    }

    /// <summary>Upper-triangular mask (1 on and above diagonal + <paramref name="diagonal"/>). -> [rows, cols]</summary>
    public static Tensor Triu(int rows, int cols, int diagonal = 0)
    {
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[(i * cols) + j] = j - i >= diagonal ? 1f : 0f;
        return new Tensor(data, [rows, cols]);
    }

    /// <summary>Keeps the lower triangle of the last two dims, zeroing the rest (differentiable). [.., r, c] -> [.., r, c]</summary>
    public Tensor Tril(int diagonal = 0) => Mul(Tril(Size(-2), Size(-1), diagonal));

    /// <summary>Keeps the upper triangle of the last two dims, zeroing the rest (differentiable). [.., r, c] -> [.., r, c]</summary>
    public Tensor Triu(int diagonal = 0) => Mul(Triu(Size(-2), Size(-1), diagonal));

    private static void RequireInt(Tensor t, string op, string what)
    {
        if (t.Dtype != DType.Int32)
            throw new ArgumentException($"{op}: {what} must be an Int32 tensor, got {t.Dtype} with shape {ShapeUtil.Format(t.ShapeArr)}");
    }
}
