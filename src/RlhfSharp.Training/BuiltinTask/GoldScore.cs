namespace RlhfSharp.Training.BuiltinTask;

/// <summary>The parts of one gold score (see <see cref="GoldScorer"/> for the formula).</summary>
/// <param name="Skill">The skill the prompt asks.</param>
/// <param name="IsCorrect">Whether the response's answer is right.</param>
/// <param name="Correctness">+1 when correct, −1 when wrong or missing.</param>
/// <param name="Politeness">−0.5 per banned word, at least −1.</param>
/// <param name="Concision">−0.05 per word beyond the ideal length, at least −0.5.</param>
/// <param name="Words">Whitespace-separated words in the response.</param>
/// <param name="BannedWords">Banned-word occurrences in the response.</param>
public sealed record GoldScore(Skill Skill, bool IsCorrect, double Correctness, double Politeness, double Concision, int Words, int BannedWords)
{
    /// <summary>Correctness + Politeness + Concision, in [−2.5, 1].</summary>
    public double Total => Correctness + Politeness + Concision;
}
