namespace RlhfSharp.Text.PreTokenization;

/// <summary>What a <c>Split</c> pre-tokenizer does with the pattern's matches (tokenizers' <c>SplitDelimiterBehavior</c>).</summary>
public enum SplitBehavior
{
    /// <summary>Drop the matches.</summary>
    Removed,

    /// <summary>Each match is a piece of its own, and so is each stretch between matches.</summary>
    Isolated,

    /// <summary>Each match joins the piece before it.</summary>
    MergedWithPrevious,

    /// <summary>Each match joins the piece after it.</summary>
    MergedWithNext,

    /// <summary>Adjacent matches join into one piece.</summary>
    Contiguous,
}
