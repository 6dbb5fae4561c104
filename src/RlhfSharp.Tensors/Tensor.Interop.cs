namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>Takes ownership of <paramref name="data"/> (no copy): for loaders that read straight into the array.</summary>
    public static Tensor WrapArray(float[] data, params int[] shape)
    {
        if (ShapeUtil.Numel(shape) != data.Length)
            throw new ShapeMismatchException("WrapArray", $"{data.Length} values do not fill shape {ShapeUtil.Format(shape)}");
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>Takes ownership of bfloat16 bit patterns (no copy): a bf16-storage tensor.</summary>
    public static Tensor FromBFloat16Bits(ushort[] bits, params int[] shape)
    {
        if (ShapeUtil.Numel(shape) != bits.Length)
            throw new ShapeMismatchException("FromBFloat16Bits", $"{bits.Length} values do not fill shape {ShapeUtil.Format(shape)}");
        return new Tensor(bits, (int[])shape.Clone());
    }

    /// <summary>The bfloat16 bit patterns in row-major order (fp32 tensors are rounded to nearest even).</summary>
    public ushort[] ToBFloat16Bits() => ToBFloat16().Contiguous().HalfSpan.ToArray();

    /// <summary>Copies the elements, row-major, as float32 into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < Numel)
            throw new ArgumentException($"CopyTo: destination holds {destination.Length} values, tensor has {Numel}");
        Float().Contiguous().Span.CopyTo(destination);
    }

    /// <summary>
    /// Writes <paramref name="source"/> (broadcast to this shape) into this tensor's storage, in
    /// place and outside the autograd graph: for caches and optimizer updates, never for values a
    /// recorded graph still needs.
    /// </summary>
    public void CopyInPlace(Tensor source)
    {
        if (Dtype != DType.Float32)
            throw new InvalidOperationException($"CopyInPlace: only float32 tensors can be written in place, this one is {Dtype}");
        if (RequiresGrad && Autograd.GradMode.IsEnabled)
            throw new InvalidOperationException("CopyInPlace: this tensor requires grad; write under GradMode.NoGrad() if this is an optimizer update");
        ShapeUtil.Broadcast(source.ShapeArr, ShapeArr, "CopyInPlace");
        CopyFrom(source);
    }
}
