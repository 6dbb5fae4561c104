namespace RlhfSharp.Tensors;

/// <summary>
/// A float32 tensor [B, H, T, D] read as B·H row-major matrices [T, D] for GEMM: matrix (b, h)
/// starts at <see cref="At"/>(b, h) with leading dimension <see cref="Ld"/>. Views such as
/// q.transpose(1, 2) of a [B, T, H, D] projection are read in place; only a last dim with stride ≠ 1
/// forces a copy.
/// </summary>
internal readonly record struct HeadMatrices(float[] Data, int Offset, int StrideB, int StrideH, int Ld)
{
    public int At(int b, int h) => Offset + (b * StrideB) + (h * StrideH);

    public ReadOnlySpan<float> Span(int b, int h) => Data.AsSpan(At(b, h));

    public static HeadMatrices Of(Tensor t)
    {
        var x = t.Float().Detach();
        int rows = x.ShapeArr[2], cols = x.ShapeArr[3];
        bool rowMajor = (x.StridesArr[3] == 1 || cols == 1) && (rows == 1 || x.StridesArr[2] >= cols);
        if (!rowMajor)
            x = x.Contiguous();
        int ld = rows == 1 ? cols : x.StridesArr[2];
        return new HeadMatrices(x.F!, x.Offset, x.StridesArr[0], x.StridesArr[1], Math.Max(ld, 1));
    }
}
