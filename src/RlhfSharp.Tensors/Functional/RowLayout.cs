namespace RlhfSharp.Tensors;

/// <summary>
/// A float32 tensor [.., C] read as N rows of C contiguous values, without copying when the last
/// dim has stride 1 (so views such as <c>logits[:, :-1, :]</c> are read in place). Row r starts at
/// <see cref="Start"/>(r) in <see cref="Data"/>.
/// </summary>
internal readonly struct RowLayout
{
    private readonly int[]? _offsets;
    private readonly int _base;

    private RowLayout(float[] data, int width, int count, int baseOffset, int[]? offsets)
    {
        Data = data;
        Width = width;
        Count = count;
        _base = baseOffset;
        _offsets = offsets;
    }

    public float[] Data { get; }

    /// <summary>C: values per row.</summary>
    public int Width { get; }

    /// <summary>N: the product of the leading dims.</summary>
    public int Count { get; }

    public int Start(int r) => _offsets is null ? _base + (r * Width) : _offsets[r];

    public ReadOnlySpan<float> Row(int r) => Data.AsSpan(Start(r), Width);

    /// <summary>Rows of <paramref name="t"/> (rank ≥ 1); bf16/int32 and last-dim-strided tensors are copied first.</summary>
    public static RowLayout Of(Tensor t)
    {
        var x = t.Float().Detach();
        int width = x.ShapeArr[^1];
        if (x.StridesArr[^1] != 1 && width > 1)
            x = x.Contiguous();
        int count = width == 0 ? 0 : x.Numel / width;
        if (x.IsContiguous || count <= 1)
            return new RowLayout(x.F!, width, count, x.Offset, null);

        // General leading strides: one offset per row (N ints, negligible next to N·C values).
        var offsets = new int[count];
        int lead = x.Rank - 1;
        var index = new int[lead];
        int off = x.Offset;
        for (int r = 0; r < count; r++)
        {
            offsets[r] = off;
            for (int d = lead - 1; d >= 0; d--)
            {
                index[d]++;
                off += x.StridesArr[d];
                if (index[d] < x.ShapeArr[d])
                    break;
                off -= index[d] * x.StridesArr[d];
                index[d] = 0;
            }
        }
        return new RowLayout(x.F!, width, count, 0, offsets);
    }
}
