using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// The prompt language of the built-in task: four phrasing templates per skill, and the parser
/// that turns any such prompt (train, held-out, or typed by hand) back into its
/// <see cref="BuiltinProblem"/>, so the gold scorer needs no lookup table.
/// </summary>
/// <remarks>
/// Parsing trims the prompt and ignores letter case. Templates, by skill:
/// arithmetic "What is a + b?", "What is a plus b?", "Compute a + b.", "Calculate a plus b."
/// (operators + - * or plus minus times);
/// reversal "Reverse the word w.", "Spell w backwards.", "Write the word w in reverse.", "What is w spelled backwards?";
/// comparison "Which is larger, a or b?", "Which number is bigger: a or b?", "Which is smaller, a or b?", "Which number is less: a or b?";
/// counting "How many letters are in the word w?", "Count the letters in w.",
/// "How many times does the letter c appear in w?", "Count the letter c in w.";
/// sorting "Sort these numbers: l.", "Put in increasing order: l.", "Sort from smallest to largest: l.", "Sort from largest to smallest: l."
/// (l = numbers separated by single spaces);
/// parity "Is n even?", "Is n odd?", "Is the number n even?", "Is the number n odd?".
/// </remarks>
public static partial class TaskPrompts
{
    /// <summary>Phrasing templates per skill.</summary>
    public const int TemplatesPerSkill = 4;

    /// <summary>The problem a prompt asks; throws <see cref="ArgumentException"/> naming the prompt when it is not a task prompt.</summary>
    public static BuiltinProblem Parse(string prompt)
        => TryParse(prompt, out var problem) ? problem
            : throw new ArgumentException($"\"{prompt}\" is not a built-in task prompt; expected one of the templates of {nameof(TaskPrompts)} (e.g. \"What is 7 + 5?\").", nameof(prompt));

    /// <summary>Parses a prompt of any skill; false when the text matches no template.</summary>
    public static bool TryParse(string prompt, out BuiltinProblem problem)
    {
        problem = null!;
        if (prompt is null) return false;
        string p = prompt.Trim();
        Match m;
        if ((m = ArithmeticRegex().Match(p)).Success)
        {
            int a = Int(m.Groups[1]), b = Int(m.Groups[3]);
            string op = m.Groups[2].Value.ToLowerInvariant();
            (string name, int result) = op switch
            {
                "+" or "plus" => ("add", a + b),
                "-" or "minus" => ("sub", a - b),
                _ => ("mul", a * b),
            };
            // Addition and multiplication commute: 7 + 5 and 5 + 7 are one problem.
            string key = name == "sub" ? $"sub:{a}:{b}" : $"{name}:{Math.Min(a, b)}:{Math.Max(a, b)}";
            problem = new BuiltinProblem(Skill.Arithmetic, key, Num(result), [Num(a), Num(b)], null);
            return true;
        }
        if ((m = ReversalRegex().Match(p)).Success)
        {
            string w = FirstWord(m);
            problem = new BuiltinProblem(Skill.Reversal, "rev:" + w, Reverse(w), [], w);
            return true;
        }
        if ((m = ComparisonRegex().Match(p)).Success)
        {
            int a = Int(m.Groups[2]), b = Int(m.Groups[3]);
            bool larger = m.Groups[1].Value.ToLowerInvariant() is "larger" or "bigger";
            problem = new BuiltinProblem(Skill.Comparison, $"cmp:{Math.Min(a, b)}:{Math.Max(a, b)}",
                Num(larger ? Math.Max(a, b) : Math.Min(a, b)), [Num(a), Num(b)], null);
            return true;
        }
        if ((m = LengthRegex().Match(p)).Success)
        {
            string w = FirstWord(m);
            problem = new BuiltinProblem(Skill.Counting, "len:" + w, Num(w.Length), [], w);
            return true;
        }
        if ((m = LetterCountRegex().Match(p)).Success)
        {
            char c = char.ToLowerInvariant(FirstWord(m)[0]);
            string w = m.Groups[3].Value.ToLowerInvariant();
            problem = new BuiltinProblem(Skill.Counting, $"cnt:{c}:{w}", Num(w.Count(x => x == c)), [], w);
            return true;
        }
        if ((m = SortingRegex().Match(p)).Success)
        {
            var numbers = m.Groups[2].Value.Split(' ').Select(int.Parse).ToArray();
            bool descending = m.Groups[1].Value.Equals("Sort from largest to smallest", StringComparison.OrdinalIgnoreCase);
            var sorted = numbers.Order().ToArray();
            var answer = descending ? sorted.Reverse() : sorted;
            problem = new BuiltinProblem(Skill.Sorting, "sort:" + string.Join(",", sorted),
                string.Join(" ", answer.Select(Num)), [.. numbers.Select(Num)], null);
            return true;
        }
        if ((m = ParityRegex().Match(p)).Success)
        {
            int n = Int(m.Groups[1]);
            bool askEven = m.Groups[2].Value.Equals("even", StringComparison.OrdinalIgnoreCase);
            bool yes = (n % 2 == 0) == askEven;
            problem = new BuiltinProblem(Skill.Parity, $"par:{n}", yes ? "yes" : "no", [Num(n)], null);
            return true;
        }
        return false;
    }

    /// <summary>Renders template <paramref name="template"/> (0–3) of arithmetic; <paramref name="op"/> is '+', '-' or '*'.</summary>
    public static string Arithmetic(int template, int a, char op, int b)
    {
        string sym = op.ToString(), word = op switch { '+' => "plus", '-' => "minus", '*' => "times", _ => throw new ArgumentOutOfRangeException(nameof(op)) };
        return template switch
        {
            0 => $"What is {a} {sym} {b}?",
            1 => $"What is {a} {word} {b}?",
            2 => $"Compute {a} {sym} {b}.",
            3 => $"Calculate {a} {word} {b}.",
            _ => throw new ArgumentOutOfRangeException(nameof(template)),
        };
    }

    public static string Reversal(int template, string word) => template switch
    {
        0 => $"Reverse the word {word}.",
        1 => $"Spell {word} backwards.",
        2 => $"Write the word {word} in reverse.",
        3 => $"What is {word} spelled backwards?",
        _ => throw new ArgumentOutOfRangeException(nameof(template)),
    };

    /// <summary>Templates 0–1 ask for the larger number, 2–3 for the smaller.</summary>
    public static string Comparison(int template, int a, int b) => template switch
    {
        0 => $"Which is larger, {a} or {b}?",
        1 => $"Which number is bigger: {a} or {b}?",
        2 => $"Which is smaller, {a} or {b}?",
        3 => $"Which number is less: {a} or {b}?",
        _ => throw new ArgumentOutOfRangeException(nameof(template)),
    };

    /// <summary>Templates 0–1 ask for the word's length, 2–3 for the occurrences of <paramref name="letter"/>.</summary>
    public static string Counting(int template, string word, char letter) => template switch
    {
        0 => $"How many letters are in the word {word}?",
        1 => $"Count the letters in {word}.",
        2 => $"How many times does the letter {letter} appear in {word}?",
        3 => $"Count the letter {letter} in {word}.",
        _ => throw new ArgumentOutOfRangeException(nameof(template)),
    };

    /// <summary>Templates 0–2 ask for ascending order, 3 for descending.</summary>
    public static string Sorting(int template, IReadOnlyList<int> numbers)
    {
        string list = string.Join(" ", numbers);
        return template switch
        {
            0 => $"Sort these numbers: {list}.",
            1 => $"Put in increasing order: {list}.",
            2 => $"Sort from smallest to largest: {list}.",
            3 => $"Sort from largest to smallest: {list}.",
            _ => throw new ArgumentOutOfRangeException(nameof(template)),
        };
    }

    public static string Parity(int template, int n) => template switch
    {
        0 => $"Is {n} even?",
        1 => $"Is {n} odd?",
        2 => $"Is the number {n} even?",
        3 => $"Is the number {n} odd?",
        _ => throw new ArgumentOutOfRangeException(nameof(template)),
    };

    /// <summary>The word written backwards.</summary>
    public static string Reverse(string word)
    {
        var chars = word.ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }

    private static string FirstWord(Match m)
    {
        for (int g = 1; g < m.Groups.Count; g++)
            if (m.Groups[g].Success) return m.Groups[g].Value.ToLowerInvariant();
        throw new InvalidOperationException("a word template matched without a word");
    }

    private static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private const RegexOptions Opts = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;

    [GeneratedRegex(@"^(?:What is|Compute|Calculate) (\d{1,6}) (\+|-|\*|plus|minus|times) (\d{1,6})[.?]$", Opts)]
    private static partial Regex ArithmeticRegex();

    [GeneratedRegex(@"^(?:Reverse the word ([a-z]+)\.|Spell ([a-z]+) backwards\.|Write the word ([a-z]+) in reverse\.|What is ([a-z]+) spelled backwards\?)$", Opts)]
    private static partial Regex ReversalRegex();

    [GeneratedRegex(@"^Which (?:number )?is (larger|bigger|smaller|less)[,:] (\d{1,6}) or (\d{1,6})\?$", Opts)]
    private static partial Regex ComparisonRegex();

    [GeneratedRegex(@"^(?:How many letters are in the word ([a-z]+)\?|Count the letters in ([a-z]+)\.)$", Opts)]
    private static partial Regex LengthRegex();

    [GeneratedRegex(@"^(?:How many times does the letter ([a-z]) appear in|Count the letter ([a-z]) in) ([a-z]+)[.?]$", Opts)]
    private static partial Regex LetterCountRegex();

    [GeneratedRegex(@"^(Sort these numbers|Put in increasing order|Sort from smallest to largest|Sort from largest to smallest): (\d{1,6}(?: \d{1,6})+)\.$", Opts)]
    private static partial Regex SortingRegex();

    [GeneratedRegex(@"^Is (?:the number )?(\d{1,6}) (even|odd)\?$", Opts)]
    private static partial Regex ParityRegex();
}
