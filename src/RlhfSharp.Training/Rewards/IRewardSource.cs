using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Rewards;

/// <summary>
/// Scores responses to prompts: a reward model, a rule, a judge or a mixture. The RL trainers call
/// it once per batch of rollouts; <c>responses[i]</c> answers <c>prompts[i]</c>, and the result
/// holds one scalar per pair (higher is better).
/// </summary>
public interface IRewardSource
{
    /// <summary>The name metrics are logged under (e.g. "gold" gives <c>rewards/gold</c>).</summary>
    string Name { get; }

    /// <summary>Scores responses to single-turn prompts given as the user's text.</summary>
    double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);

    /// <summary>
    /// Scores responses to whole prompt dialogues. Sources that read only the question (rules,
    /// the gold scorer) get the text of the last user turn; a reward model overrides this to see
    /// every turn through its chat template.
    /// </summary>
    double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses)
        => Score([.. prompts.Select(LastUserText)], responses);

    /// <summary>
    /// Scores responses to prompt rows as the prompt file holds them: the dialogue and the row's
    /// other fields (a reference answer in <c>label</c> or <c>answer</c> that a verifier checks
    /// against). Sources that need only the dialogue get <see cref="ScoreDialogues"/>.
    /// </summary>
    double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses)
        => ScoreDialogues([.. prompts.Select(p => p.Messages)], responses);

    /// <summary>The content of the last user turn (the whole last turn when there is no user turn).</summary>
    static string LastUserText(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
            throw new ArgumentException("a prompt dialogue needs at least one message", nameof(messages));
        return messages.LastOrDefault(m => m.Role == "user")?.Content ?? messages[^1].Content;
    }
}
