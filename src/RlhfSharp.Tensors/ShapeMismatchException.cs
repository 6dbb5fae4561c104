namespace RlhfSharp.Tensors;

/// <summary>Thrown when an op gets tensors whose shapes do not fit together; the message names the op and the shapes.</summary>
public sealed class ShapeMismatchException : ArgumentException
{
    public ShapeMismatchException(string op, string detail)
        : base($"{op}: {detail}")
    {
        Op = op;
    }

    /// <summary>The op that rejected its inputs.</summary>
    public string Op { get; }
}
