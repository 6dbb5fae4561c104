namespace RlhfSharp.Tensors.Gpu;

/// <summary>
/// A tensor's shape and strides (right-aligned to six dims; missing dims have size 1 and stride 0)
/// and offset, passed to kernels by value so that one kernel reads any view: transposes, slices
/// and broadcasts (stride 0) without a copy.
/// </summary>
internal struct Layout
{
    public const int MaxRank = 6;

    public int S0, S1, S2, S3, S4, S5;
    public int T0, T1, T2, T3, T4, T5;
    public int Offset;

    /// <summary>The layout of <paramref name="t"/> broadcast to <paramref name="shape"/> (its own shape by default).</summary>
    public static Layout Of(Tensor t, int[]? shape = null)
    {
        shape ??= t.ShapeArr;
        var strides = ReferenceEquals(shape, t.ShapeArr) ? t.StridesArr : ShapeUtil.BroadcastStrides(t.ShapeArr, t.StridesArr, shape);
        return From(shape, strides, t.Offset);
    }

    /// <summary>The batch dims of a matrix operand [.., r, c], broadcast to <paramref name="batchShape"/>.</summary>
    public static Layout OfBatch(Tensor t, int[] batchShape) =>
        From(batchShape, ShapeUtil.BroadcastStrides(t.ShapeArr[..^2], t.StridesArr[..^2], batchShape), t.Offset);

    public static Layout From(int[] shape, int[] strides, int offset)
    {
        if (shape.Length > MaxRank)
            throw new DeviceMismatchException($"device ops take tensors of rank at most {MaxRank}; this one has shape {ShapeUtil.Format(shape)}");
        var s = new int[MaxRank];
        var st = new int[MaxRank];
        int pad = MaxRank - shape.Length;
        for (int i = 0; i < MaxRank; i++)
        {
            s[i] = i < pad ? 1 : shape[i - pad];
            st[i] = i < pad ? 0 : strides[i - pad];
        }
        return new Layout
        {
            S0 = s[0],
            S1 = s[1],
            S2 = s[2],
            S3 = s[3],
            S4 = s[4],
            S5 = s[5],
            T0 = st[0],
            T1 = st[1],
            T2 = st[2],
            T3 = st[3],
            T4 = st[4],
            T5 = st[5],
            Offset = offset,
        };
    }

    /// <summary>Where the <paramref name="i"/>-th element in row-major order of the shape is stored.</summary>
    public readonly int At(int i)
    {
        int off = Offset;
        int q = i / S5;
        off += (i - (q * S5)) * T5;
        i = q;
        q = i / S4;
        off += (i - (q * S4)) * T4;
        i = q;
        q = i / S3;
        off += (i - (q * S3)) * T3;
        i = q;
        q = i / S2;
        off += (i - (q * S2)) * T2;
        i = q;
        q = i / S1;
        off += (i - (q * S1)) * T1;
        i = q;
        off += i * T0;
        return off;
    }
}
