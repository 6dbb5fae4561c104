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
    public static int[] Lengths(double[,] mask, string caller)
    {
        int rows = mask.GetLength(0), cols = mask.GetLength(1);
        var lengths = new int[rows];
        for (int b = 0; b < rows; b++)
        {
            int length = 0;
            for (int t = 0; t < cols; t++)
            {
                double m = mask[b, t];
                if (m != 0 && m != 1)
                    throw new ArgumentException($"{caller}: response mask[{b}, {t}] is {m}; a response mask holds only 0 (padding) and 1 (real token)");
                if (m == 1 && length != t)
                    throw new ArgumentException($"{caller}: response mask row {b} has a real token at position {t} after padding at position {length}; responses must be right-padded");
                if (m == 1)
                    length++;
            }
            lengths[b] = length;
        }
        return lengths;
    }

    /// <summary>Throws unless <paramref name="x"/> has the mask's shape [B, T].</summary>
    public static void CheckShape(double[,] x, double[,] mask, string caller, string name)
    {
        if (x.GetLength(0) != mask.GetLength(0) || x.GetLength(1) != mask.GetLength(1))
            throw new ArgumentException($"{caller}: {name} is [{x.GetLength(0)}, {x.GetLength(1)}] but the response mask is [{mask.GetLength(0)}, {mask.GetLength(1)}]; both must be [B, T]");
    }

    /// <summary>Throws unless <paramref name="x"/> has the mask's shape [B, T] (a 2-D tensor).</summary>
    public static void CheckShape(Tensor x, Tensor mask, string caller, string name)
    {
        if (mask.Rank != 2)
            throw new ArgumentException($"{caller}: the response mask must be [B, T], got {ShapeText(mask)}");
        if (!x.Shape.AsSpan().SequenceEqual(mask.Shape))
            throw new ArgumentException($"{caller}: {name} is {ShapeText(x)} but the response mask is {ShapeText(mask)}; both must be [B, T]");
    }

    /// <summary>Copies a [B, T] tensor into a double grid (no gradient).</summary>
    public static double[,] ToGrid(Tensor x)
    {
        if (x.Rank != 2)
            throw new ArgumentException($"ResponseMask.ToGrid: expected a [B, T] tensor, got {ShapeText(x)}");
        var data = x.ToArray();
        int rows = x.Size(0), cols = x.Size(1);
        var grid = new double[rows, cols];
        for (int b = 0; b < rows; b++)
            for (int t = 0; t < cols; t++)
                grid[b, t] = data[(b * cols) + t];
        return grid;
    }

    /// <summary>Wraps a double grid [B, T] as a float32 tensor [B, T].</summary>
    public static Tensor FromGrid(double[,] x)
    {
        int rows = x.GetLength(0), cols = x.GetLength(1);
        var data = new float[rows * cols];
        for (int b = 0; b < rows; b++)
            for (int t = 0; t < cols; t++)
                data[(b * cols) + t] = (float)x[b, t];
        return Tensor.FromArray(data, rows, cols);
    }

    private static string ShapeText(Tensor x) => "[" + string.Join(", ", x.Shape) + "]";
}
