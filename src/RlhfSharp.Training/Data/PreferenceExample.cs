using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// One preference pair: a shared prompt and two assistant responses, the preferred
/// (<see cref="Chosen"/>) and the dispreferred (<see cref="Rejected"/>).
/// </summary>
/// <param name="Prompt">The turns before the response (may be empty).</param>
/// <param name="Chosen">The preferred assistant turn.</param>
/// <param name="Rejected">The dispreferred assistant turn.</param>
/// <param name="Source">The file the example was read from.</param>
/// <param name="Line">Its 1-based line in that file.</param>
public sealed record PreferenceExample(
    IReadOnlyList<ChatMessage> Prompt, ChatMessage Chosen, ChatMessage Rejected, string Source, int Line)
{
    /// <summary>
    /// True when the labeller found the two responses equally good: <see cref="Chosen"/> and
    /// <see cref="Rejected"/> are then just the first and the second response (see <see cref="PreferenceDataset.LoadTies(string, DataLoadOptions?)"/>).
    /// </summary>
    public bool Tie { get; init; }

    /// <summary>The prompt followed by the chosen response.</summary>
    public IReadOnlyList<ChatMessage> ChosenDialogue => [.. Prompt, Chosen];

    /// <summary>The prompt followed by the rejected response.</summary>
    public IReadOnlyList<ChatMessage> RejectedDialogue => [.. Prompt, Rejected];
}
