using System.Globalization;
using RlhfSharp.Tensors;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>Writes one response of a given <see cref="ResponseStyle"/> to a problem, drawing its choices from a seeded generator.</summary>
/// <remarks>
/// Ideal: "12." or "The answer is 12." (½ each).
/// Verbose: the long sentence with a filler opener, a filler closer, or both (⅓ each).
/// Rude: the short or long sentence (½ each) with a rude opener, a rude closer, or both (⅓ each).
/// Wrong: the short or long sentence (½ each) around a plausible wrong answer (<see cref="WrongAnswer"/>).
/// Phrases are drawn uniformly from <see cref="ResponsePhrases"/>.
/// </remarks>
public static class ResponseWriter
{
    public static string Write(BuiltinProblem problem, ResponseStyle style, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(rng);
        switch (style)
        {
            case ResponseStyle.Ideal:
                return Sentence(problem.Answer, rng.NextInt(2) == 0);
            case ResponseStyle.Verbose:
                {
                    int parts = rng.NextInt(3); // 0 opener, 1 closer, 2 both
                    string text = ResponsePhrases.LongAnswer(problem.Answer);
                    if (parts != 1) text = Pick(ResponsePhrases.VerboseOpeners, rng) + " " + text;
                    if (parts != 0) text = text + " " + Pick(ResponsePhrases.VerboseClosers, rng);
                    return text;
                }
            case ResponseStyle.Rude:
                {
                    string text = Sentence(problem.Answer, rng.NextInt(2) == 0);
                    int parts = rng.NextInt(3);
                    if (parts != 1) text = Pick(ResponsePhrases.RudeOpeners, rng) + " " + LowerFirst(text);
                    if (parts != 0) text = text + " " + Pick(ResponsePhrases.RudeClosers, rng);
                    return text;
                }
            case ResponseStyle.Wrong:
                return Sentence(WrongAnswer(problem, rng), rng.NextInt(2) == 0);
            default:
                throw new ArgumentOutOfRangeException(nameof(style), style, "unknown response style");
        }
    }

    /// <summary>
    /// A plausible mistake, never the right answer: arithmetic ±1 or ±2; counting ±1; comparison
    /// the other number; reversal the unreversed word or two adjacent letters swapped; sorting the
    /// prompt's order or one adjacent pair swapped; parity the opposite.
    /// </summary>
    public static string WrongAnswer(BuiltinProblem problem, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(rng);
        switch (problem.Skill)
        {
            case Skill.Arithmetic:
            case Skill.Counting:
                {
                    int answer = int.Parse(problem.Answer, CultureInfo.InvariantCulture);
                    int delta = problem.Skill == Skill.Counting ? 1 : 1 + rng.NextInt(2);
                    int wrong = rng.NextInt(2) == 0 && answer - delta >= 0 ? answer - delta : answer + delta;
                    return wrong.ToString(CultureInfo.InvariantCulture);
                }
            case Skill.Comparison:
                return problem.PromptNumbers[0] == problem.Answer ? problem.PromptNumbers[1] : problem.PromptNumbers[0];
            case Skill.Reversal:
                {
                    string word = problem.Word!;
                    if (rng.NextInt(2) == 0) return word;
                    return SwapAdjacent(problem.Answer.ToCharArray(), rng, c => new string(c), s => s != problem.Answer && s != word);
                }
            case Skill.Sorting:
                {
                    string asGiven = string.Join(" ", problem.PromptNumbers);
                    if (asGiven != problem.Answer && rng.NextInt(2) == 0) return asGiven;
                    return SwapAdjacent(problem.Answer.Split(' '), rng, p => string.Join(" ", p), s => s != problem.Answer);
                }
            case Skill.Parity:
                return problem.Answer == "yes" ? "no" : "yes";
            default:
                throw new ArgumentOutOfRangeException(nameof(problem), problem.Skill, "unknown skill");
        }
    }

    private static string Sentence(string answer, bool shortForm)
        => shortForm ? ResponsePhrases.ShortAnswer(answer) : ResponsePhrases.LongAnswer(answer);

    /// <summary>Swaps a random adjacent pair whose swap passes <paramref name="ok"/> (items are distinct enough that one exists).</summary>
    private static string SwapAdjacent<T>(T[] items, Generator rng, Func<T[], string> join, Func<string, bool> ok)
    {
        int start = rng.NextInt(items.Length - 1);
        for (int k = 0; k < items.Length - 1; k++)
        {
            int i = (start + k) % (items.Length - 1);
            var copy = (T[])items.Clone();
            (copy[i], copy[i + 1]) = (copy[i + 1], copy[i]);
            string s = join(copy);
            if (ok(s)) return s;
        }
        throw new InvalidOperationException($"no adjacent swap of \"{join(items)}\" gives a wrong answer");
    }

    private static T Pick<T>(IReadOnlyList<T> items, Generator rng) => items[rng.NextInt(items.Count)];

    private static string LowerFirst(string s) => s.Length == 0 ? s : char.ToLowerInvariant(s[0]) + s[1..];
}
