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

    /// <summary>
    /// dst view = src view, element by element over <paramref name="shape"/>, without an intermediate
    /// buffer; rows that are contiguous on both sides are block copies. The views must not overlap.
    /// </summary>
    public static void CopyStrided(float[] src, int srcOffset, int[] srcStrides, float[] dst, int dstOffset, int[] dstStrides, int[] shape)
    {
        if (shape.Length == 0)
        {
            dst[dstOffset] = src[srcOffset];
            return;
        }
        foreach (int n in shape)
        {
            if (n == 0)
                return;
        }
        CopyStridedDim(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, 0);
    }

    private static void CopyStridedDim(float[] src, int so, int[] ss, float[] dst, int d, int[] ds, int[] shape, int dim)
    {
        int n = shape[dim];
        if (dim == shape.Length - 1)
        {
            int a = ss[dim], b = ds[dim];
            if (a == 1 && b == 1)
            {
                src.AsSpan(so, n).CopyTo(dst.AsSpan(d, n));
            }
            else if (a == 0 && b == 1)
            {
                dst.AsSpan(d, n).Fill(src[so]);
            }
            else
            {
                for (int i = 0; i < n; i++)
                    dst[d + (i * b)] = src[so + (i * a)];
            }
            return;
        }
        for (int i = 0; i < n; i++)
            CopyStridedDim(src, so + (i * ss[dim]), ss, dst, d + (i * ds[dim]), ds, shape, dim + 1);
    }
}
