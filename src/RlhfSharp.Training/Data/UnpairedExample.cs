using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// One unpaired example for KTO: a prompt, one assistant completion and whether the completion is
/// desirable (<c>label: true</c>) or undesirable (<c>label: false</c>), as TRL's unpaired preference format.
/// </summary>
/// <param name="Prompt">The turns before the completion (may be empty).</param>
/// <param name="Completion">The assistant turn being judged.</param>
/// <param name="Label">True for a desirable completion, false for an undesirable one.</param>
/// <param name="Source">The file the example was read from.</param>
/// <param name="Line">Its 1-based line in that file.</param>
public sealed record UnpairedExample(IReadOnlyList<ChatMessage> Prompt, ChatMessage Completion, bool Label, string Source, int Line)
{
    /// <summary>The prompt followed by the completion.</summary>
    public IReadOnlyList<ChatMessage> Dialogue => [.. Prompt, Completion];
}
