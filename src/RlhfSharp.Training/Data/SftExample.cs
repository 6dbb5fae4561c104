using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// One supervised fine-tuning conversation. The last message is the assistant completion; the
/// messages before it are the prompt (they may include earlier assistant turns).
/// </summary>
/// <param name="Messages">The turns, ending with an assistant turn.</param>
/// <param name="Source">The file the example was read from.</param>
/// <param name="Line">Its 1-based line in that file.</param>
public sealed record SftExample(IReadOnlyList<ChatMessage> Messages, string Source, int Line)
{
    /// <summary>The turns before the completion.</summary>
    public IReadOnlyList<ChatMessage> Prompt => [.. Messages.Take(Messages.Count - 1)];

    /// <summary>The final assistant turn's text.</summary>
    public string Completion => Messages[^1].Content;
}
