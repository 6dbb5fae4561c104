using System.Text.RegularExpressions;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// Decides whether a response answers a problem correctly. The rules read the answer the way a
/// person would and refuse the ways a policy could hedge:
/// <list type="bullet">
/// <item>Numbers (arithmetic, comparison, counting): the answer is the last number in the
/// response. Every other number must equal it or appear in the prompt (echoing "7 + 5 = 12" is
/// fine); any other number is a hedge and the response is wrong ("11 or 12", "1 2 3 … 12").</item>
/// <item>Sorting: every number must come from the prompt, and the last run of numbers (separated
/// only by spaces, commas or "and") must be exactly the sorted list; a longer or repeated list is wrong.</item>
/// <item>Reversal: the answer is the last word that is an anagram of the prompt's word; it must be
/// the reversed word, and no anagram other than that and the prompt's word may appear ("tca tac" is wrong).</item>
/// <item>Parity: the words "yes"/"no" that appear must all be the right one, and at least one must.</item>
/// </list>
/// Letter case is ignored; numbers are compared without leading zeros.
/// </summary>
public static partial class AnswerChecker
{
    public static bool IsCorrect(BuiltinProblem problem, string response)
    {
        ArgumentNullException.ThrowIfNull(problem);
        response ??= "";
        return problem.Skill switch
        {
            Skill.Arithmetic or Skill.Comparison or Skill.Counting => NumberCorrect(problem, response),
            Skill.Sorting => SortingCorrect(problem, response),
            Skill.Reversal => ReversalCorrect(problem, response),
            Skill.Parity => ParityCorrect(problem, response),
            _ => false,
        };
    }

    private static bool NumberCorrect(BuiltinProblem problem, string response)
    {
        var numbers = Numbers(response);
        if (numbers.Count == 0) return false;
        string last = numbers[^1].Value;
        if (last != problem.Answer) return false;
        return numbers.All(n => n.Value == last || problem.PromptNumbers.Contains(n.Value));
    }

    private static bool SortingCorrect(BuiltinProblem problem, string response)
    {
        var numbers = Numbers(response);
        if (numbers.Count == 0 || !numbers.All(n => problem.PromptNumbers.Contains(n.Value))) return false;
        int runStart = numbers.Count - 1;
        while (runStart > 0)
        {
            var prev = numbers[runStart - 1];
            string between = response[(prev.Index + prev.Length)..numbers[runStart].Index];
            if (!ListSeparatorRegex().IsMatch(between)) break;
            runStart--;
        }
        string run = string.Join(" ", numbers.Skip(runStart).Select(n => n.Value));
        return run == problem.Answer;
    }

    private static bool ReversalCorrect(BuiltinProblem problem, string response)
    {
        string word = problem.Word!;
        string key = SortedLetters(word);
        var anagrams = Words(response).Where(w => w.Length == word.Length && SortedLetters(w) == key).ToList();
        if (anagrams.Count == 0 || anagrams[^1] != problem.Answer) return false;
        return anagrams.All(a => a == problem.Answer || a == word);
    }

    private static bool ParityCorrect(BuiltinProblem problem, string response)
    {
        var said = Words(response).Where(w => w is "yes" or "no").Distinct().ToList();
        return said.Count == 1 && said[0] == problem.Answer;
    }

    /// <summary>Each run of digits with its position; the value has leading zeros removed ("007" → "7").</summary>
    internal static List<(string Value, int Index, int Length)> Numbers(string text)
    {
        var list = new List<(string, int, int)>();
        foreach (Match m in DigitsRegex().Matches(text))
        {
            string v = m.Value.TrimStart('0');
            list.Add((v.Length == 0 ? "0" : v, m.Index, m.Length));
        }
        return list;
    }

    /// <summary>The runs of ASCII letters, lower-cased.</summary>
    internal static IEnumerable<string> Words(string text)
        => LettersRegex().Matches(text).Select(m => m.Value.ToLowerInvariant());

    private static string SortedLetters(string w)
    {
        var c = w.ToCharArray();
        Array.Sort(c);
        return new string(c);
    }

    [GeneratedRegex(@"[0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex DigitsRegex();

    [GeneratedRegex(@"[A-Za-z]+", RegexOptions.CultureInvariant)]
    private static partial Regex LettersRegex();

    [GeneratedRegex(@"^\s*,?\s*(?:and\s+)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ListSeparatorRegex();
}
