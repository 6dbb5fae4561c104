namespace RlhfSharp.Training.BuiltinTask;

/// <summary>One question of the built-in task, as parsed from (or rendered into) a prompt.</summary>
/// <param name="Skill">The question family.</param>
/// <param name="Key">
/// The underlying problem regardless of phrasing ("add:5:7" for both "7 + 5" and "5 plus 7",
/// "cmp:9:14" for larger and smaller alike). With <see cref="BuiltinTaskOptions.DisjointProblems"/> the
/// train and held-out splits share no key, so no held-out answer can be learned from a rephrased train prompt.
/// </param>
/// <param name="Answer">The canonical answer text: "12", "tac", "2 5 9", "yes" or "no".</param>
/// <param name="PromptNumbers">The numbers written in the prompt, as decimal strings without leading zeros.</param>
/// <param name="Word">The word a reversal or counting question is about, else null.</param>
public sealed record BuiltinProblem(Skill Skill, string Key, string Answer, IReadOnlyList<string> PromptNumbers, string? Word)
{
    /// <summary>Words in <see cref="Answer"/> (the length of a sorted list, else 1).</summary>
    public int AnswerWordCount => Answer.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
}
