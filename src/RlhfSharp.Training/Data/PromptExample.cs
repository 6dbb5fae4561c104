using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// One prompt for reinforcement learning: the turns the policy answers (never ending with an
/// assistant turn), plus the line's other fields (e.g. a reference answer a rule-based reward
/// checks against), kept as JSON.
/// </summary>
/// <param name="Messages">The prompt turns.</param>
/// <param name="Source">The file the example was read from.</param>
/// <param name="Line">Its 1-based line in that file.</param>
public sealed record PromptExample(IReadOnlyList<ChatMessage> Messages, string Source, int Line)
{
    /// <summary>The line's fields other than <c>prompt</c> and <c>messages</c>, by name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Extra { get; init; } = new Dictionary<string, JsonElement>();
}
