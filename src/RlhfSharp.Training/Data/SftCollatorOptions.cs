namespace RlhfSharp.Training.Data;

/// <summary>Options for <see cref="SftCollator"/>: the shared lengths and padding, plus which tokens are trained.</summary>
public sealed record SftCollatorOptions : CollatorOptions
{
    /// <summary>Train only on the completion (true, the default) or on every token of the sequence (false).</summary>
    public bool CompletionOnlyLoss { get; init; } = true;

    /// <summary>
    /// With <see cref="CompletionOnlyLoss"/>, also train on the assistant turns before the final
    /// one (multi-turn conversations). Off by default: only the final assistant turn is trained.
    /// </summary>
    public bool TrainOnAllAssistantTurns { get; init; }
}
