using RlhfSharp.Tensors.Autograd;
namespace RlhfSharp.Tensors;

/// <summary>Functional ops (PyTorch's <c>torch.nn.functional</c>): fused forward and backward kernels.</summary>
public static partial class F
{
    /// <summary>
    /// Checks that <paramref name="ids"/> is int32 with the leading shape of <paramref name="logits"/>
    /// [.., V] and that every id (other than <paramref name="ignoreIndex"/>) is in [0, V); returns them.
    /// </summary>
    private static int[] CheckIds(string op, Tensor logits, Tensor ids, string what, int? ignoreIndex = null)
    {
        if (logits.Rank < 1)
            throw new ShapeMismatchException(op, $"logits must have a class dim [.., V], got a scalar");
        if (ids.Dtype != DType.Int32)
            throw new ArgumentException($"{op}: {what} must be an int32 tensor, got {ids.Dtype}");
        var lead = logits.ShapeArr[..^1];
        if (!ShapeUtil.SameShape(ids.ShapeArr, lead))
            throw new ShapeMismatchException(op, $"{what} shape {ShapeUtil.Format(ids.ShapeArr)} must equal the logits shape {ShapeUtil.Format(logits.ShapeArr)} without its last dim, i.e. {ShapeUtil.Format(lead)}");
        var values = ids.IntsForReading();
        int v = logits.ShapeArr[^1];
        for (int i = 0; i < values.Length; i++)
        {
            int id = values[i];
            if ((uint)id >= (uint)v && id != ignoreIndex)
            {
                var ignore = ignoreIndex is int ig ? $" and is not the ignore index {ig}" : "";
                throw new IndexOutOfRangeException($"{op}: {what} value {id} at flat position {i} is outside [0, {v}) for logits of shape {ShapeUtil.Format(logits.ShapeArr)}{ignore}");
            }
        }
        return values;
    }

    /// <summary>An output buffer the kernel overwrites completely (skips zeroing large arrays).</summary>
    private static float[] Uninit(int length) => GradBuffers.Rent(length);

    /// <summary>
    /// A norm's weight or bias [C] as an array of exactly C floats: the parameter's own storage when
    /// it is one (read again in backward, before any optimizer step, as the fused linear reads its
    /// weight), else a copy.
    /// </summary>
    private static float[]? NormParam(Tensor? p)
    {
        if (p is null)
            return null;
        if (p.Dtype == DType.Float32 && !p.IsOnDevice && p.Offset == 0 && p.IsContiguous && p.F!.Length == p.Numel)
            return p.F;
        return p.Float().Contiguous().Span.ToArray();
    }

    /// <summary>The values of a gradient handed to a backward closure, row-major from index 0.</summary>
    private static float[] Dense(Tensor g)
    {
        var c = g.Float().Contiguous();
        return c.Offset == 0 ? c.F! : c.Span.ToArray();
    }
}
