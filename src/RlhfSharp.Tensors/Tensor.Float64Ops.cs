namespace RlhfSharp.Tensors;

/// <summary>
/// Float64 compute: element-wise arithmetic (Add, Sub, Mul, Div, Maximum, Minimum, with
/// broadcasting and scalars), Neg/Exp/Log/Sqrt/Abs/Pow/Clamp, Where/MaskedFill and Sum/Mean run in
/// C# double when an input is Float64 and return Float64, so that an RL statistic written once as
/// a tensor expression gives exactly the bits of the same plain double arithmetic. The other
/// operand is widened exactly (float32, bf16, int32 and float scalars all fit in a double). None
/// of it is differentiable: a Float64 result is never recorded, and mixing a Float64 operand with
/// a float32 one that requires grad throws (see <see cref="Record"/>).
/// </summary>
public sealed partial class Tensor
{
    // ---- double scalars: exact on Float64, (float)s on every other dtype ---------------------

    /// <summary>Adds a double: used as is on a Float64 tensor; otherwise exactly <c>Add((float)s)</c>.</summary>
    public Tensor Add(double s) => Dtype == DType.Float64 ? Binary(this, ScalarDouble(s), BinaryOp.Add, "add") : Add((float)s);

    /// <summary>Subtracts a double: used as is on a Float64 tensor; otherwise exactly <c>Sub((float)s)</c>.</summary>
    public Tensor Sub(double s) => Dtype == DType.Float64 ? Binary(this, ScalarDouble(s), BinaryOp.Sub, "sub") : Sub((float)s);

    /// <summary>Multiplies by a double: used as is on a Float64 tensor; otherwise exactly <c>Mul((float)s)</c>.</summary>
    public Tensor Mul(double s) => Dtype == DType.Float64 ? Binary(this, ScalarDouble(s), BinaryOp.Mul, "mul") : Mul((float)s);

    /// <summary>Divides by a double: used as is on a Float64 tensor; otherwise exactly <c>Div((float)s)</c>.</summary>
    public Tensor Div(double s) => Dtype == DType.Float64 ? Binary(this, ScalarDouble(s), BinaryOp.Div, "div") : Div((float)s);

    public static Tensor operator +(Tensor a, double s) => a.Add(s);

    public static Tensor operator +(double s, Tensor a) => a.Add(s);

    public static Tensor operator -(Tensor a, double s) => a.Sub(s);

    public static Tensor operator -(double s, Tensor a) => a.Dtype == DType.Float64 ? ScalarDouble(s).Sub(a) : a.Neg().Add((float)s);

    public static Tensor operator *(Tensor a, double s) => a.Mul(s);

    public static Tensor operator *(double s, Tensor a) => a.Mul(s);

    public static Tensor operator /(Tensor a, double s) => a.Div(s);

    public static Tensor operator /(double s, Tensor a) => a.Dtype == DType.Float64 ? ScalarDouble(s).Div(a) : (float)s / a;

    /// <summary>
    /// Clamps to [min, max] (either may be null). On a Float64 tensor the double bounds are used as
    /// is (no gradient); on any other dtype this is exactly <c>Clamp((float?)min, (float?)max)</c>.
    /// No defaults, so that <c>Clamp()</c> and float or int bounds keep binding to the float overload.
    /// </summary>
    public Tensor Clamp(double? min, double? max)
    {
        double lo = min ?? double.NegativeInfinity, hi = max ?? double.PositiveInfinity;
        if (lo > hi)
            throw new ArgumentException($"Clamp: min {lo} is greater than max {hi}");
        if (Dtype != DType.Float64)
            return Clamp((float?)min, (float?)max);
        return MapDouble(x => Math.Min(Math.Max(x, lo), hi));
    }

    /// <summary>
    /// MaskedFill with a double value: on a Float64 tensor the value is used as is; otherwise
    /// exactly <c>MaskedFill(mask, (float)value)</c>. [..] -> [..]
    /// </summary>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        if (Dtype != DType.Float64)
            return MaskedFill(mask, (float)value);
        CheckMaskShape(mask);
        var fill = NonZero(mask, ShapeArr);
        var x = Contiguous().DoubleSpan;
        var result = new double[x.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = fill[i] ? value : x[i];
        return new Tensor(result, ShapeArr);
    }

    /// <summary>A 0-d Float64 tensor holding <paramref name="value"/>.</summary>
    internal static Tensor ScalarDouble(double value) => new([value], []);

    // ---- kernels -------------------------------------------------------------------------------

    /// <summary>
    /// a ∘ b in double, element by element in row-major order of the broadcast shape, each operand
    /// read exactly (Float64 as stored, other dtypes widened). Max/Min follow the float32 path's
    /// rule (<see cref="Math.Max(double, double)"/>: NaN wins, +0 above −0). -> Float64 [broadcast]
    /// </summary>
    private static Tensor BinaryFloat64(Tensor a, Tensor b, BinaryOp op, string name)
    {
        var outShape = ShapeUtil.Broadcast(a.ShapeArr, b.ShapeArr, name);
        var result = new double[ShapeUtil.Numel(outShape)];
        if (result.Length == 0)
            return new Tensor(result, outShape);
        var (da, oa, stridesA) = Widened(a);
        var (db, ob, stridesB) = Widened(b);
        var sa = ShapeUtil.BroadcastStrides(a.ShapeArr, stridesA, outShape);
        var sb = ShapeUtil.BroadcastStrides(b.ShapeArr, stridesB, outShape);
        if (outShape.Length == 0)
        {
            result[0] = ApplyDouble(op, da[oa], db[ob]);
            return new Tensor(result, outShape);
        }
        int pos = 0;
        RecurseDouble(op, da, oa, sa, db, ob, sb, outShape, 0, result, ref pos);
        return new Tensor(result, outShape);
    }

    /// <summary>The doubles of a tensor with its offset and strides: Float64 storage itself, or an exact widened contiguous copy.</summary>
    private static (double[] Data, int Offset, int[] Strides) Widened(Tensor t) =>
        t.Dtype == DType.Float64 ? (t.D!, t.Offset, t.StridesArr) : (t.ToDoubleArray(), 0, ShapeUtil.ContiguousStrides(t.ShapeArr));

    private static void RecurseDouble(BinaryOp op, double[] a, int oa, int[] sa, double[] b, int ob, int[] sb, int[] shape, int dim, double[] dst, ref int pos)
    {
        int n = shape[dim];
        if (dim == shape.Length - 1)
        {
            int ia = sa[dim], ib = sb[dim];
            for (int i = 0; i < n; i++)
                dst[pos + i] = ApplyDouble(op, a[oa + (i * ia)], b[ob + (i * ib)]);
            pos += n;
            return;
        }
        for (int i = 0; i < n; i++)
            RecurseDouble(op, a, oa + (i * sa[dim]), sa, b, ob + (i * sb[dim]), sb, shape, dim + 1, dst, ref pos);
    }

    private static double ApplyDouble(BinaryOp op, double x, double y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Max => Math.Max(x, y),
        _ => Math.Min(x, y),
    };

    /// <summary>Applies <paramref name="f"/> to each element of a Float64 tensor, in double. [..] -> Float64 [..]</summary>
    private Tensor MapDouble(Func<double, double> f)
    {
        var x = Contiguous().DoubleSpan;
        var result = new double[x.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = f(x[i]);
        return new Tensor(result, ShapeArr);
    }

    /// <summary>Where with a Float64 value operand: the values read exactly (the other widened), no gradient. -> Float64 [shape]</summary>
    private static Tensor WhereFloat64(bool[] c, Tensor a, Tensor b, int[] shape)
    {
        var av = a.Detach().Expand(shape).ToDoubleArray();
        var bv = b.Detach().Expand(shape).ToDoubleArray();
        var result = new double[c.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = c[i] ? av[i] : bv[i];
        return new Tensor(result, shape);
    }

    /// <summary>
    /// Sum over <paramref name="dims"/> of a Float64 tensor, in double. The order is fixed and is
    /// part of the contract: for each output element, <c>double acc = 0.0;</c> then
    /// <c>acc += x</c> for each reduced element x in row-major order of its index over the reduced
    /// dims (the input's own order with the kept dims fixed); no pairwise or SIMD reassociation.
    /// That is what makes a tensor expression bit-identical to a plain C# loop over the same
    /// values (including 0.0 + (−0.0) = +0.0 for a sum of negative zeros). [..] -> Float64
    /// </summary>
    private Tensor SumFloat64(int[] dims, bool keepDim, string op)
    {
        var nd = NormaliseDims(dims, op);
        var kept = (int[])ShapeArr.Clone();
        foreach (var d in nd)
            kept[d] = 1;
        var outShape = ShapeArr.Where((_, i) => !nd.Contains(i)).ToArray();
        int reduceCount = 1;
        foreach (var d in nd)
            reduceCount *= ShapeArr[d];
        int outCount = ShapeUtil.Numel(kept);
        // Kept dims first, reduced dims last (each group in its original order): every output's
        // reduced elements are then one contiguous run, in row-major order.
        var moved = Permute(Enumerable.Range(0, Rank).Where(i => !nd.Contains(i)).Concat(nd).ToArray()).Contiguous();
        var src = moved.DoubleSpan;
        var result = new double[outCount];
        for (int r = 0; r < outCount; r++)
        {
            double acc = 0.0;
            foreach (var x in src.Slice(r * reduceCount, reduceCount))
                acc += x;
            result[r] = acc;
        }
        return new Tensor(result, keepDim ? kept : outShape);
    }

    /// <summary>Mean of a Float64 tensor: <see cref="SumFloat64"/> divided by the count in double (an empty reduction divides by 1 and gives 0, as the float32 path does).</summary>
    private Tensor MeanFloat64(int[] dims, bool keepDim)
    {
        var nd = NormaliseDims(dims, "Mean");
        long count = 1;
        foreach (var d in nd)
            count *= ShapeArr[d];
        return BinaryFloat64(SumFloat64(dims, keepDim, "Mean"), ScalarDouble(Math.Max(count, 1)), BinaryOp.Div, "mean");
    }
}
