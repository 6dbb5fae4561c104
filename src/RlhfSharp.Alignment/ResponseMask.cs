using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment;

/// <summary>
/// Right-padded response masks [B, T]: 1 marks a real response token, 0 the padding after the
/// end of the response. Row b has its real tokens at positions 0 … length_b − 1 and nothing
/// real after the first 0. Every PPO and KL function checks its mask with <see cref="Lengths"/>.
/// </summary>
public static class ResponseMask
{
    /// <summary>Response length of each row. mask [B, T] (1 real, 0 padding) -> [B]</summary>
    /// <exception cref="ArgumentException">A mask value is not 0 or 1, or a 1 follows a 0 (not right-padded).</exception>
    public static int[] Lengths(Tensor mask, string caller)
    {
        if (mask.Rank != 2)
            throw new ArgumentException($"{caller}: the response mask must be [B, T], got {ShapeText(mask)}");
        var m = mask.ToDoubleArray();
        int rows = mask.Size(0), cols = mask.Size(1);
        var lengths = new int[rows];
        for (int b = 0; b < rows; b++)
        {
            int length = 0;
            for (int t = 0; t < cols; t++)
            {
                double v = m[(b * cols) + t];
                if (v != 0 && v != 1)
                    throw new ArgumentException($"{caller}: response mask[{b}, {t}] is {v}; a response mask holds only 0 (padding) and 1 (real token)");
                if (v == 1 && length != t)
                    throw new ArgumentException($"{caller}: response mask row {b} has a real token at position {t} after padding at position {length}; responses must be right-padded");
                if (v == 1)
                    length++;
            }
            lengths[b] = length;
        }
        return lengths;
    }

    /// <summary>Throws unless <paramref name="x"/> has the mask's shape [B, T] (a 2-D tensor).</summary>
    public static void CheckShape(Tensor x, Tensor mask, string caller, string name)
    {
        if (mask.Rank != 2)
            throw new ArgumentException($"{caller}: the response mask must be [B, T], got {ShapeText(mask)}");
        if (!x.Shape.AsSpan().SequenceEqual(mask.Shape))
            throw new ArgumentException($"{caller}: {name} is {ShapeText(x)} but the response mask is {ShapeText(mask)}; both must be [B, T]");
    }

    /// <summary>Throws unless <paramref name="x"/> is [B] with the mask's B.</summary>
    public static void CheckRows(Tensor x, Tensor mask, string caller, string name)
    {
        if (x.Rank != 1 || mask.Rank != 2 || x.Size(0) != mask.Size(0))
            throw new ArgumentException($"{caller}: {name} is {ShapeText(x)} but the response mask is {ShapeText(mask)}; {name} must be [B]");
    }

    internal static string ShapeText(Tensor x) => "[" + string.Join(", ", x.Shape) + "]";
}
