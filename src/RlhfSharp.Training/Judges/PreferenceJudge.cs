using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Judges;

/// <summary>A judge's answer to "which response is better?".</summary>
public enum Verdict
{
    A,
    B,
    Tie,
}

/// <summary>One comparison: a prompt dialogue and two candidate responses.</summary>
public sealed record JudgeItem(IReadOnlyList<ChatMessage> Prompt, string A, string B)
{
    public string PromptText => IRewardSource.LastUserText(Prompt);
}

/// <summary>
/// Labels preference pairs in place of a person (RLAIF, Bai et al. 2022; Lee et al. 2023): the
/// gold scorer, a constitution of checkable principles, a local language model or an
/// OpenAI-compatible server behind one interface.
/// </summary>
public interface IPreferenceJudge
{
    string Name { get; }

    IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items);
}

/// <summary>A judge that scores each response on its own and prefers the higher score (ties when equal).</summary>
public sealed class ScoringJudge(IRewardSource scorer) : IPreferenceJudge
{
    public string Name => scorer.Name;

    public IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var prompts = items.Select(i => i.Prompt).ToList();
        var a = scorer.ScoreDialogues(prompts, [.. items.Select(i => i.A)]);
        var b = scorer.ScoreDialogues(prompts, [.. items.Select(i => i.B)]);
        return [.. a.Zip(b, (x, y) => x > y ? Verdict.A : y > x ? Verdict.B : Verdict.Tie)];
    }
}
