using System.Globalization;
using RlhfSharp.Tensors;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>Writes one response of a given <see cref="ResponseStyle"/> to a problem, drawing its choices from a seeded generator.</summary>
/// <remarks>
/// Ideal: "12." or "The answer is 12." (½ each).
/// Verbose: the long sentence with a filler opener, a filler closer, or both (⅓ each).
/// Rude: the short or long sentence (½ each) with a rude opener, a rude closer, or both (⅓ each).
/// Wrong: a plausible wrong answer (<see cref="WrongAnswer"/>) written in the form of one of the
/// other three styles, drawn in their stated proportions (by default 40 : 20 : 25), so a mistake is
/// as likely to come wrapped in filler or rudeness as any answer: no surface form marks a response
/// as right or wrong, and a reward model has to check the answer itself.
/// Phrases are drawn uniformly from <see cref="ResponsePhrases"/>.
/// </remarks>
public static class ResponseWriter
{
    /// <param name="styleFractions">The mixture in <see cref="ResponseStyle"/> order (the options'
    /// <see cref="BuiltinTaskOptions.StyleFractions"/>); a wrong answer's form is drawn from the first three. Default: the default options'.</param>
    public static string Write(BuiltinProblem problem, ResponseStyle style, Generator rng, IReadOnlyList<double>? styleFractions = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(rng);
        if (style == ResponseStyle.Wrong)
            return Form(WrongAnswer(problem, rng), WrongForm(styleFractions ?? DefaultFractions, rng), rng);
        return Form(problem.Answer, style, rng);
    }

    private static readonly IReadOnlyList<double> DefaultFractions = new BuiltinTaskOptions().StyleFractions;

    /// <summary>The form a wrong answer takes: ideal, verbose or rude in proportion to their fractions (ideal when all three are 0).</summary>
    private static ResponseStyle WrongForm(IReadOnlyList<double> fractions, Generator rng)
    {
        double total = fractions[0] + fractions[1] + fractions[2];
        if (!(total > 0))
            return ResponseStyle.Ideal;
        double u = rng.NextDouble() * total;
        return u < fractions[0] ? ResponseStyle.Ideal : u < fractions[0] + fractions[1] ? ResponseStyle.Verbose : ResponseStyle.Rude;
    }

    private static string Form(string answer, ResponseStyle form, Generator rng)
    {
        switch (form)
        {
            case ResponseStyle.Ideal:
                return Sentence(answer, rng.NextInt(2) == 0);
            case ResponseStyle.Verbose:
                {
                    int parts = rng.NextInt(3); // 0 opener, 1 closer, 2 both
                    string text = ResponsePhrases.LongAnswer(answer);
                    if (parts != 1) text = Pick(ResponsePhrases.VerboseOpeners, rng) + " " + text;
                    if (parts != 0) text = text + " " + Pick(ResponsePhrases.VerboseClosers, rng);
                    return text;
                }
            case ResponseStyle.Rude:
                {
                    string text = Sentence(answer, rng.NextInt(2) == 0);
                    int parts = rng.NextInt(3);
                    if (parts != 1) text = Pick(ResponsePhrases.RudeOpeners, rng) + " " + LowerFirst(text);
                    if (parts != 0) text = text + " " + Pick(ResponsePhrases.RudeClosers, rng);
                    return text;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(form), form, "unknown response style");
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
