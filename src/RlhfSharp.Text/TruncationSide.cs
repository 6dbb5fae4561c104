namespace RlhfSharp.Text;

/// <summary>Which end of a too-long sequence loses tokens.</summary>
public enum TruncationSide
{
    /// <summary>Keep the first tokens (drop from the end).</summary>
    Right,

    /// <summary>Keep the last tokens (drop from the start), as prompt truncation usually wants.</summary>
    Left,
}
