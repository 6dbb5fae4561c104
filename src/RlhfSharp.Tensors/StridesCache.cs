namespace RlhfSharp.Tensors;

/// <summary>
/// Row-major strides shared between tensors: a step builds hundreds of tensors over a few dozen
/// shapes, and each new strides array was garbage by the next step. A thread keeps the last
/// <see cref="Slots"/> strides arrays it handed out and gives one back when it fits the shape.
/// Strides arrays are never written after a tensor is built, so tensors may share them.
/// </summary>
internal static class StridesCache
{
    private const int Slots = 32;

    [ThreadStatic]
    private static int[][]? _slots;

    [ThreadStatic]
    private static int _next;

    /// <summary>Row-major strides of <paramref name="shape"/>, possibly an array other tensors share (never write to it).</summary>
    public static int[] For(ReadOnlySpan<int> shape)
    {
        var slots = _slots ??= new int[Slots][];
        foreach (var s in slots)
        {
            if (s is not null && Fits(s, shape))
                return s;
        }
        var strides = ShapeUtil.ContiguousStrides(shape);
        slots[_next] = strides;
        _next = (_next + 1) % Slots;
        return strides;
    }

    // Whether `strides` are the row-major strides of `shape` (they depend on every size but the first).
    private static bool Fits(int[] strides, ReadOnlySpan<int> shape)
    {
        if (strides.Length != shape.Length)
            return false;
        int expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (strides[i] != expected)
                return false;
            expected *= Math.Max(shape[i], 1);
        }
        return true;
    }
}
