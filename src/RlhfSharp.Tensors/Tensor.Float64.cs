namespace RlhfSharp.Tensors;

/// <summary>
/// Float64 storage: exact no-grad statistics (rewards, advantages, returns) kept as doubles
/// between functions. Creation, reading, conversion and data movement are here; the ops that
/// compute in float64 are in Tensor.Float64Ops.cs, and every other op reads a Float64 tensor
/// through <see cref="Float"/> (rounded to nearest).
/// </summary>
public sealed partial class Tensor
{
    /// <summary>The elements of a contiguous float64 tensor, in row-major order.</summary>
    internal Span<double> DoubleSpan
    {
        get
        {
            if (D is null)
                throw new InvalidOperationException($"expected a float64 tensor, got {Dtype}");
            if (!IsContiguous)
                throw new InvalidOperationException("internal: DoubleSpan of a non-contiguous tensor; call Contiguous() first");
            return D.AsSpan(Offset, Numel);
        }
    }

    /// <summary>Wraps a copy of <paramref name="values"/> as a Float64 tensor with the given shape (1-D if none given).</summary>
    public static Tensor FromArray(double[] values, params int[] shape)
    {
        shape = shape.Length == 0 ? [values.Length] : (int[])shape.Clone();
        if (ShapeUtil.Numel(shape) != values.Length)
            throw new ShapeMismatchException("FromArray", $"{values.Length} values do not fill shape {ShapeUtil.Format(shape)}");
        return new Tensor((double[])values.Clone(), shape);
    }

    /// <summary>A Float64 copy of a matrix. -> [rows, cols]</summary>
    public static Tensor FromArray(double[,] values)
    {
        var data = new double[values.Length];
        int cols = values.GetLength(1);
        for (int r = 0; r < values.GetLength(0); r++)
            for (int c = 0; c < cols; c++)
                data[(r * cols) + c] = values[r, c];
        return new Tensor(data, [values.GetLength(0), cols]);
    }

    /// <summary>
    /// The elements in row-major order as float64, from any dtype and any view: Float64 exactly,
    /// Float32, BFloat16 and Int32 widened (also exact).
    /// </summary>
    public double[] ToDoubleArray()
    {
        if (G is not null)
            return Cpu().ToDoubleArray();
        var result = new double[Numel];
        switch (Dtype)
        {
            case DType.Float64:
                StridedCopy.Copy(D!, Offset, ShapeArr, StridesArr, result);
                break;
            case DType.Float32:
                var floats = new float[Numel];
                StridedCopy.Copy(F!, Offset, ShapeArr, StridesArr, floats);
                for (int i = 0; i < result.Length; i++)
                    result[i] = floats[i];
                break;
            case DType.BFloat16:
                var halves = new ushort[Numel];
                StridedCopy.Copy(H!, Offset, ShapeArr, StridesArr, halves);
                for (int i = 0; i < result.Length; i++)
                    result[i] = BFloat16.ToFloat(halves[i]);
                break;
            case DType.Int32:
                var ints = new int[Numel];
                StridedCopy.Copy(I!, Offset, ShapeArr, StridesArr, ints);
                for (int i = 0; i < result.Length; i++)
                    result[i] = ints[i];
                break;
            default:
                throw UnknownDtype("ToDoubleArray");
        }
        return result;
    }

    /// <summary>The value of a one-element tensor as float64 (exact for every dtype).</summary>
    public double ItemDouble()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"ItemDouble: tensor has shape {ShapeUtil.Format(ShapeArr)} ({Numel} elements); only one-element tensors have an item");
        return ToDoubleArray()[0];
    }

    /// <summary>
    /// A Float64 copy (float32, bf16 and int32 converted exactly; a Float64 tensor is returned as
    /// is). Not differentiable: the result has no grad, whatever this tensor has. [..] -> [..]
    /// </summary>
    public Tensor Double() => Dtype == DType.Float64 ? this : new Tensor(ToDoubleArray(), ShapeArr);

    /// <summary>IndexSelect of a contiguous Float64 [outer, n, inner]: rows copied exactly, no grad.</summary>
    private static Tensor IndexSelectFloat64(Tensor x, int[] idx, int[] outShape, int outer, int n, int inner)
    {
        int m = idx.Length;
        var result = new double[outer * m * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < m; j++)
                x.D.AsSpan(x.Offset + (((o * n) + idx[j]) * inner), inner).CopyTo(result.AsSpan(((o * m) + j) * inner, inner));
        }
        return new Tensor(result, outShape);
    }

    /// <summary>
    /// bf16 nearest-even rounding of a double in one step. Rounding to float32 first and then to
    /// bf16 could round twice (a double just above a bf16 tie lands on the tie in float32), so the
    /// float32 is rounded to odd instead: if inexact and even, it moves to its neighbour toward
    /// the double. float32 has 16 more bits than bf16, so its bf16 rounding is then the correct one.
    /// </summary>
    private static ushort BFloat16FromDouble(double value)
    {
        float f = (float)value;
        if (float.IsFinite(f) && (double)f != value && (BitConverter.SingleToUInt32Bits(f) & 1) == 0)
            f = (double)f < value ? MathF.BitIncrement(f) : MathF.BitDecrement(f);
        return BFloat16.FromFloat(f);
    }

    /// <summary>For dtype switches: a dtype this op has no case for.</summary>
    private InvalidOperationException UnknownDtype(string op) => new($"{op}: unsupported dtype {Dtype}");
}
