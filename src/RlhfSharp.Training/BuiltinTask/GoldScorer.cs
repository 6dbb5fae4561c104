using System.Text.Json;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// The built-in task's "human": scores any response to any task prompt from the two texts alone
/// (the prompt is parsed by <see cref="TaskPrompts"/>, so held-out prompts and model generations
/// score the same way as the training data).
/// </summary>
/// <remarks>
/// gold = correctness + politeness + concision, in [−2.5, 1], where
/// <list type="bullet">
/// <item>correctness = +1 if <see cref="AnswerChecker.IsCorrect"/>, else −1 (wrong, hedged or missing);</item>
/// <item>politeness = max(−1, −0.5 × b), b = words starting with a banned word (<see cref="ResponsePhrases.BannedWords"/>);</item>
/// <item>concision = max(−0.5, −0.05 × max(0, n − (3 + a))), n = whitespace-separated words of the
/// response, a = words of the answer (the list length for sorting, else 1); 3 + a is the length of
/// "The answer is 12.", so both "12." and "The answer is 12." score the full 1.</item>
/// </list>
/// Correctness dominates: a correct answer however rude or long (≥ −0.5) beats any wrong one (≤ −1).
/// Nothing adds reward beyond a concise correct answer, so repeating a phrase can only cost.
/// Special-token markers such as "&lt;|im_end|&gt;" are removed from the response before scoring.
/// </remarks>
public sealed partial class GoldScorer
{
    /// <summary>The marker <see cref="BuiltinTaskGenerator"/> writes as stats.json's "task".</summary>
    public const string TaskMarker = "rlhfsharp-builtin-v1";

    public const double CorrectReward = 1.0, WrongReward = -1.0;
    public const double BannedWordPenalty = 0.5, MaxPolitenessPenalty = 1.0;
    public const double ExtraWordPenalty = 0.05, MaxConcisionPenalty = 0.5;

    /// <summary>Words of the answer frame "The answer is", allowed on top of the answer's own words.</summary>
    public const int FrameWords = 3;

    /// <summary>
    /// The best score any response can get, and the score of every ideal one ("12." or "The answer
    /// is 12.", <see cref="ResponseStyle.Ideal"/>): correct, no banned word, no word beyond the ideal length.
    /// </summary>
    public const double BestScore = CorrectReward;

    /// <summary>Whether a gold score is the best possible (<see cref="BestScore"/>): the answer is an ideal one.</summary>
    public static bool IsIdeal(double gold) => gold >= BestScore;

    /// <summary>The scorer (stateless; every data folder of the task uses the same rules).</summary>
    public static GoldScorer Default { get; } = new();

    /// <summary>
    /// The gold scorer of a data folder written by <see cref="BuiltinTaskGenerator"/> (recognised by
    /// stats.json's "task" being <see cref="TaskMarker"/>), or null when the folder is not one.
    /// </summary>
    /// <exception cref="InvalidDataException">stats.json exists but is not valid JSON.</exception>
    public static GoldScorer? TryCreate(string dataDir)
    {
        ArgumentNullException.ThrowIfNull(dataDir);
        string path = Path.Combine(dataDir, BuiltinTaskGenerator.StatsFileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("task", out var task)
                && task.ValueKind == JsonValueKind.String
                && task.GetString() == TaskMarker ? Default : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}); expected the stats.json the built-in task generator writes.", e);
        }
    }

    /// <summary>The gold score of <paramref name="response"/> to <paramref name="prompt"/>.</summary>
    /// <exception cref="ArgumentException">The prompt is not a task prompt.</exception>
    public double Score(string prompt, string response) => Explain(prompt, response).Total;

    /// <summary>Whether the response's answer is right (for accuracy reports).</summary>
    public bool Correct(string prompt, string response) => AnswerChecker.IsCorrect(TaskPrompts.Parse(prompt), Clean(response));

    /// <summary>The score with its parts.</summary>
    public GoldScore Explain(string prompt, string response) => Explain(TaskPrompts.Parse(prompt), response);

    public GoldScore Explain(BuiltinProblem problem, string response)
    {
        ArgumentNullException.ThrowIfNull(problem);
        string text = Clean(response);
        bool correct = AnswerChecker.IsCorrect(problem, text);
        int banned = AnswerChecker.Words(text).Count(w => ResponsePhrases.BannedWords.Any(b => w.StartsWith(b, StringComparison.Ordinal)));
        int words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        int extra = Math.Max(0, words - (FrameWords + problem.AnswerWordCount));
        return new GoldScore(problem.Skill, correct,
            Correctness: correct ? CorrectReward : WrongReward,
            Politeness: -Math.Min(MaxPolitenessPenalty, BannedWordPenalty * banned),
            Concision: -Math.Min(MaxConcisionPenalty, ExtraWordPenalty * extra),
            Words: words, BannedWords: banned);
    }

    private static string Clean(string? response) => response is null ? "" : SpecialMarkerRegex().Replace(response, " ");

    [GeneratedRegex(@"<\|[A-Za-z0-9_]{1,32}\|>", RegexOptions.CultureInvariant)]
    private static partial Regex SpecialMarkerRegex();
}
