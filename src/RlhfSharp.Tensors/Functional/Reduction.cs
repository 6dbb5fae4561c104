namespace RlhfSharp.Tensors;

/// <summary>How a per-element loss is reduced, as in PyTorch's <c>reduction=</c>.</summary>
public enum Reduction
{
    /// <summary>Average over the elements that count (for cross-entropy: the non-ignored tokens).</summary>
    Mean,

    /// <summary>Sum over all elements.</summary>
    Sum,

    /// <summary>No reduction: one loss per element.</summary>
    None,
}
