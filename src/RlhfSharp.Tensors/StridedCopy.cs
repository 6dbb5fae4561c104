namespace RlhfSharp.Tensors;

/// <summary>Copies a strided view into contiguous row-major order.</summary>
internal static class StridedCopy
{
    public static void Copy<T>(T[] src, int offset, int[] shape, int[] strides, Span<T> dst)
    {
        if (dst.Length == 0)
            return;
        if (shape.Length == 0)
        {
            dst[0] = src[offset];
            return;
        }
        int pos = 0;
        CopyDim(src, offset, shape, strides, 0, dst, ref pos);
    }

    private static void CopyDim<T>(T[] src, int offset, int[] shape, int[] strides, int dim, Span<T> dst, ref int pos)
    {
        int n = shape[dim];
        int stride = strides[dim];
        if (dim == shape.Length - 1)
        {
            if (stride == 1)
            {
                src.AsSpan(offset, n).CopyTo(dst.Slice(pos, n));
            }
            else if (stride == 0)
            {
                dst.Slice(pos, n).Fill(src[offset]);
            }
            else
            {
                for (int i = 0; i < n; i++)
                    dst[pos + i] = src[offset + (i * stride)];
            }
            pos += n;
            return;
        }
        for (int i = 0; i < n; i++)
            CopyDim(src, offset + (i * stride), shape, strides, dim + 1, dst, ref pos);
    }
}
