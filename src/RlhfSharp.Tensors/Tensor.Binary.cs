using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

public sealed partial class Tensor
{
    // ---- broadcasting element-wise ops: a [..] ∘ b [..] -> broadcast shape -------------------

    public Tensor Add(Tensor other) => Record(Binary(this, other, BinaryOp.Add, "add"), "add", [this, other], g => [g.SumToShape(ShapeArr), g.SumToShape(other.ShapeArr)]);

    public Tensor Sub(Tensor other) => Record(Binary(this, other, BinaryOp.Sub, "sub"), "sub", [this, other], g => [g.SumToShape(ShapeArr), g.Neg().SumToShape(other.ShapeArr)]);

    public Tensor Mul(Tensor other) => Record(Binary(this, other, BinaryOp.Mul, "mul"), "mul", [this, other], g =>
    [
        RequiresGrad ? Binary(g, other, BinaryOp.Mul, "mul").SumToShape(ShapeArr) : null,
        other.RequiresGrad ? Binary(g, this, BinaryOp.Mul, "mul").SumToShape(other.ShapeArr) : null,
    ]);

    public Tensor Div(Tensor other) => Record(Binary(this, other, BinaryOp.Div, "div"), "div", [this, other], g =>
    [
        RequiresGrad ? Binary(g, other, BinaryOp.Div, "div").SumToShape(ShapeArr) : null,
        // d(a/b)/db = -a / b²
        other.RequiresGrad ? Binary(Binary(g, this, BinaryOp.Mul, "div"), Binary(other, other, BinaryOp.Mul, "div"), BinaryOp.Div, "div").Neg().SumToShape(other.ShapeArr) : null,
    ]);

    /// <summary>Element-wise maximum; where equal the gradient goes to this tensor.</summary>
    public Tensor Maximum(Tensor other) => Record(Binary(this, other, BinaryOp.Max, "maximum"), "maximum", [this, other], g => RouteGrad(g, this, other, takeGreater: true));

    /// <summary>Element-wise minimum; where equal the gradient goes to this tensor.</summary>
    public Tensor Minimum(Tensor other) => Record(Binary(this, other, BinaryOp.Min, "minimum"), "minimum", [this, other], g => RouteGrad(g, this, other, takeGreater: false));

    /// <summary>Backward of maximum/minimum: each gradient element goes to a where a won (ties included), else to b.</summary>
    private static Tensor?[] RouteGrad(Tensor g, Tensor a, Tensor b, bool takeGreater)
    {
        if (g.G is not null)
        {
            var backend = g.Backend;
            var toA = backend.Compare(OnDevice(backend, a), OnDevice(backend, b), g.ShapeArr, takeGreater);
            var zero = backend.Full(0f, []);
            return
            [
                a.RequiresGrad ? backend.Where(toA, g, zero, g.ShapeArr).SumToShape(a.ShapeArr) : null,
                b.RequiresGrad ? backend.Where(toA, zero, g, g.ShapeArr).SumToShape(b.ShapeArr) : null,
            ];
        }
        var shape = g.ShapeArr;
        var av = a.Float().Detach().Expand(shape).Contiguous().Span;
        var bv = b.Float().Detach().Expand(shape).Contiguous().Span;
        var gv = g.Contiguous().Span;
        var ga = GradBuffers.RentZeroed(gv.Length);
        var gb = GradBuffers.RentZeroed(gv.Length);
        for (int i = 0; i < gv.Length; i++)
        {
            bool toA = takeGreater ? av[i] >= bv[i] : av[i] <= bv[i];
            if (toA)
                ga[i] = gv[i];
            else
                gb[i] = gv[i];
        }
        return
        [
            a.RequiresGrad ? new Tensor(ga, (int[])shape.Clone()).SumToShape(a.ShapeArr) : null,
            b.RequiresGrad ? new Tensor(gb, (int[])shape.Clone()).SumToShape(b.ShapeArr) : null,
        ];
    }

    public Tensor Add(float s) => Record(Binary(this, Scalar(s), BinaryOp.Add, "add"), "add_scalar", [this], g => [g]);

    public Tensor Sub(float s) => Dtype == DType.Float64 ? Sub((double)s) : Add(-s);

    public Tensor Mul(float s) => Record(Binary(this, Scalar(s), BinaryOp.Mul, "mul"), "mul_scalar", [this], g => [Binary(g, Scalar(s), BinaryOp.Mul, "mul")]);

    public Tensor Div(float s) => Record(Binary(this, Scalar(s), BinaryOp.Div, "div"), "div_scalar", [this], g => [Binary(g, Scalar(s), BinaryOp.Div, "div")]);

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);

    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);

    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);

    public static Tensor operator +(Tensor a, float s) => a.Add(s);

    public static Tensor operator +(float s, Tensor a) => a.Add(s);

    public static Tensor operator -(Tensor a, float s) => a.Sub(s);

    public static Tensor operator -(float s, Tensor a) => a.Dtype == DType.Float64 ? ScalarDouble(s).Sub(a) : a.Neg().Add(s);

    public static Tensor operator *(Tensor a, float s) => a.Mul(s);

    public static Tensor operator *(float s, Tensor a) => a.Mul(s);

    public static Tensor operator /(Tensor a, float s) => a.Div(s);

    public static Tensor operator /(float s, Tensor a) => Full(s, []).Div(a);

    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/>. [..] -> shape</summary>
    public Tensor SumToShape(int[] shape)
    {
        if (ShapeUtil.SameShape(ShapeArr, shape))
            return this;
        int lead = Rank - shape.Length;
        if (lead < 0)
            throw new ShapeMismatchException("SumToShape", $"cannot reduce {ShapeUtil.Format(ShapeArr)} to the larger rank shape {ShapeUtil.Format(shape)}");
        Span<int> dims = stackalloc int[Rank];
        int count = 0;
        for (int i = 0; i < Rank; i++)
        {
            if (i < lead || (shape[i - lead] == 1 && ShapeArr[i] != 1))
                dims[count++] = i;
            else if (shape[i - lead] != ShapeArr[i])
                throw new ShapeMismatchException("SumToShape", $"cannot reduce {ShapeUtil.Format(ShapeArr)} to {ShapeUtil.Format(shape)}");
        }
        return Sum(dims[..count].ToArray(), keepDim: true).Reshape(shape);
    }

    /// <summary>Applies a scalar function element-wise (not differentiable; for masks and tests).</summary>
    internal Tensor Map(Func<float, float> f)
    {
        var src = Float().Contiguous().Span;
        var data = GradBuffers.RentZeroed(Numel);
        for (int i = 0; i < data.Length; i++)
            data[i] = f(src[i]);
        return new Tensor(data, ShapeArr);
    }

    internal static Tensor Binary(Tensor a, Tensor b, BinaryOp op, string name)
    {
        if (a.G is not null || b.G is not null)
            return DeviceBinary(DeviceOf(name, a, b)!, a, b, op, name);
        // With a Float64 operand the op computes in double (the other operand widened exactly) and
        // returns Float64; otherwise in fp32: bf16 and int32 operands are converted and the result is float32.
        if (a.Dtype == DType.Float64 || b.Dtype == DType.Float64)
            return BinaryFloat64(a, b, op, name);
        a = a.Dtype == DType.Float32 ? a : a.Float();
        b = b.Dtype == DType.Float32 ? b : b.Float();
        // Operands of one shape (the residual adds) share it with the result: shapes are never written.
        var outShape = ShapeUtil.SameShape(a.ShapeArr, b.ShapeArr) ? a.ShapeArr : ShapeUtil.Broadcast(a.ShapeArr, b.ShapeArr, name);
        var result = GradBuffers.Rent(ShapeUtil.Numel(outShape));
        if (result.Length == 0)
            return new Tensor(result, outShape);
        if (a.IsContiguous && b.IsContiguous && ShapeUtil.SameShape(a.ShapeArr, b.ShapeArr))
        {
            Apply(op, a.F!.AsSpan(a.Offset, a.Numel), 1, b.F!.AsSpan(b.Offset, b.Numel), 1, result);
            return new Tensor(result, outShape);
        }
        var sa = ShapeUtil.BroadcastStrides(a.ShapeArr, a.StridesArr, outShape);
        var sb = ShapeUtil.BroadcastStrides(b.ShapeArr, b.StridesArr, outShape);
        if (outShape.Length == 0)
        {
            Apply(op, a.F!.AsSpan(a.Offset, 1), 1, b.F!.AsSpan(b.Offset, 1), 1, result);
            return new Tensor(result, outShape);
        }
        int pos = 0;
        Recurse(op, a.F!, a.Offset, sa, b.F!, b.Offset, sb, outShape, 0, result, ref pos);
        return new Tensor(result, outShape);
    }

    private static void Recurse(BinaryOp op, float[] a, int oa, int[] sa, float[] b, int ob, int[] sb, int[] shape, int dim, float[] dst, ref int pos)
    {
        int n = shape[dim];
        if (dim == shape.Length - 1)
        {
            int ia = sa[dim], ib = sb[dim];
            if ((ia == 1 || ia == 0) && (ib == 1 || ib == 0))
            {
                Apply(op, a.AsSpan(oa, ia == 0 ? 1 : n), ia, b.AsSpan(ob, ib == 0 ? 1 : n), ib, dst.AsSpan(pos, n));
            }
            else
            {
                for (int i = 0; i < n; i++)
                    dst[pos + i] = Scalar(op, a[oa + (i * ia)], b[ob + (i * ib)]);
            }
            pos += n;
            return;
        }
        for (int i = 0; i < n; i++)
            Recurse(op, a, oa + (i * sa[dim]), sa, b, ob + (i * sb[dim]), sb, shape, dim + 1, dst, ref pos);
    }

    private static float Scalar(BinaryOp op, float x, float y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Max => MathF.Max(x, y),
        _ => MathF.Min(x, y),
    };

    // strideA/strideB are 1 (a full span) or 0 (one value broadcast over dst).
    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, int strideA, ReadOnlySpan<float> b, int strideB, Span<float> dst)
    {
        if (strideA == 0 && strideB == 0)
        {
            dst.Fill(Scalar(op, a[0], b[0]));
            return;
        }
        if (strideA == 1 && strideB == 1)
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b, dst); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, dst); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, dst); break;
                case BinaryOp.Div: TensorPrimitives.Divide(a, b, dst); break;
                case BinaryOp.Max: TensorPrimitives.Max(a, b, dst); break;
                default: TensorPrimitives.Min(a, b, dst); break;
            }
            return;
        }
        if (strideB == 0)
        {
            float y = b[0];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, y, dst); break;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, y, dst); break;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, y, dst); break;
                case BinaryOp.Div: TensorPrimitives.Divide(a, y, dst); break;
                case BinaryOp.Max: TensorPrimitives.Max(a, y, dst); break;
                default: TensorPrimitives.Min(a, y, dst); break;
            }
            return;
        }
        float x = a[0];
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, x, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, b, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, x, dst); break;
            case BinaryOp.Div: TensorPrimitives.Divide(x, b, dst); break;
            case BinaryOp.Max: TensorPrimitives.Max(b, x, dst); break;
            default: TensorPrimitives.Min(b, x, dst); break;
        }
    }
}
