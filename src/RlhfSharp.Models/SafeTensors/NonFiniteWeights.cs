using RlhfSharp.Tensors;

namespace RlhfSharp.Models.SafeTensors;

/// <summary>
/// The scan that keeps NaN and infinite weights out of model files: a save refuses them before
/// anything is written (so the files already there stay as they were), and a load refuses a file
/// that holds them, naming the file and the tensor.
/// </summary>
public static class NonFiniteWeights
{
    /// <summary>Throws before a save when any of <paramref name="tensors"/> holds a NaN or an infinity.</summary>
    public static void CheckBeforeSave(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, t) in tensors)
        {
            long at = t.FirstNonFinite();
            if (at >= 0)
            {
                string value = Value(t, at);
                throw new NonFiniteWeightsException(path, name, at, value,
                    $"refusing to save: tensor '{name}' holds {value} at element {at}; a model with NaN or infinite weights is never written " +
                    "(its training diverged: lower learning_rate or set max_grad_norm). Nothing was written; files already there are kept");
            }
        }
    }

    /// <summary>Throws when tensor <paramref name="name"/>, just read from <paramref name="path"/>, holds a NaN or an infinity.</summary>
    public static void CheckLoaded(string path, string name, Tensor t)
    {
        long at = t.FirstNonFinite();
        if (at >= 0)
        {
            string value = Value(t, at);
            throw new NonFiniteWeightsException(path, name, at, value,
                $"tensor '{name}' holds {value} at element {at}; weights must be finite (the file comes from a diverged run or is damaged). Load an earlier checkpoint of the run instead");
        }
    }

    private static string Value(Tensor t, long at)
    {
        var flat = t.Cpu().Contiguous().Reshape(-1);
        double v = flat.Dtype == DType.Float64 ? flat.Narrow(0, (int)at, 1).ToDoubleArray()[0] : flat.Narrow(0, (int)at, 1).ToArray()[0];
        return double.IsNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
    }
}

/// <summary>Weights with a NaN or an infinity, met while saving or loading <see cref="Path"/>.</summary>
public sealed class NonFiniteWeightsException : Exception, IUserError
{
    public NonFiniteWeightsException(string path, string tensor, long element, string value, string detail)
        : base($"{path}: {detail}")
    {
        Path = path;
        Tensor = tensor;
        Element = element;
        Value = value;
    }

    public string Path { get; }

    /// <summary>The tensor's name in the file.</summary>
    public string Tensor { get; }

    /// <summary>Row-major index of the first non-finite element.</summary>
    public long Element { get; }

    /// <summary>"NaN", "+Infinity" or "-Infinity".</summary>
    public string Value { get; }
}
