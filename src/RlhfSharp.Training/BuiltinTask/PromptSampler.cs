using RlhfSharp.Tensors;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// Draws prompts of each skill and splits them into train and held-out sets that share no prompt
/// text; with <c>disjointProblems</c> they share no problem key either (<see cref="BuiltinProblem.Key"/>).
/// </summary>
/// <remarks>
/// Operands: arithmetic picks +, − or × with equal odds; a + b and a − b with 0 ≤ b ≤ a ≤ 10 (a, b
/// in 0–10 for +), a × b in 0–5. Comparison: two different numbers 0–30. Counting: a word of
/// <see cref="WordList"/> and (for letter counts) one of its letters, picked by position. Sorting:
/// 3 different numbers 0–9 in random order. Parity: 0–99. Templates are equally likely.
/// The ranges keep each skill's facts few (about 150 sums, 465 comparisons, 120 sets to sort),
/// so the train prompts teach most of them several times over, as pretraining teaches an LLM the
/// facts its alignment then relies on.
/// Skills take turns (round robin in <see cref="Skill"/> order), so each split holds the six
/// skills in near-equal numbers; a skill whose distinct prompts run out leaves the rest to the others.
/// </remarks>
internal static class PromptSampler
{
    /// <summary>Consecutive rejected draws after which a skill counts as exhausted.</summary>
    private const int MaxRejections = 5000;

    public static (List<string> Train, List<string> Eval) Split(int trainCount, int evalCount, Generator rng, bool disjointProblems = false)
    {
        var evalKeys = new HashSet<string>(StringComparer.Ordinal);
        var evalTexts = new HashSet<string>(StringComparer.Ordinal);
        // Held-out: one prompt per problem key. Train: distinct texts that are not held out (and,
        // for disjoint problems, whose keys are not held out).
        var eval = Draw(evalCount, rng, (text, p) => evalKeys.Add(p.Key) && evalTexts.Add(text), "held-out");
        var trainTexts = new HashSet<string>(StringComparer.Ordinal);
        var train = Draw(trainCount, rng, (text, p) => !evalTexts.Contains(text) && !(disjointProblems && evalKeys.Contains(p.Key)) && trainTexts.Add(text), "train");
        rng.Shuffle(eval);
        rng.Shuffle(train);
        return (train, eval);
    }

    private static List<string> Draw(int count, Generator rng, Func<string, BuiltinProblem, bool> accept, string splitName)
    {
        var skills = Enum.GetValues<Skill>();
        var exhausted = new bool[skills.Length];
        var result = new List<string>(count);
        for (int turn = 0; result.Count < count; turn = (turn + 1) % skills.Length)
        {
            if (exhausted.All(e => e))
                throw new ArgumentException($"The built-in task has only {result.Count} distinct {splitName} prompts; ask for fewer (got {count}).");
            if (exhausted[turn]) continue;
            int rejections = 0;
            while (true)
            {
                string text = Sample(skills[turn], rng);
                if (accept(text, TaskPrompts.Parse(text)))
                {
                    result.Add(text);
                    break;
                }
                if (++rejections >= MaxRejections)
                {
                    exhausted[turn] = true;
                    break;
                }
            }
        }
        return result;
    }

    /// <summary>One prompt of <paramref name="skill"/> with random operands and template.</summary>
    public static string Sample(Skill skill, Generator rng)
    {
        int template = rng.NextInt(TaskPrompts.TemplatesPerSkill);
        var words = WordList.Words;
        switch (skill)
        {
            case Skill.Arithmetic:
                {
                    int op = rng.NextInt(3);
                    if (op == 2) return TaskPrompts.Arithmetic(template, rng.NextInt(6), '*', rng.NextInt(6));
                    int a = rng.NextInt(11);
                    int b = op == 0 ? rng.NextInt(11) : rng.NextInt(a + 1);
                    return TaskPrompts.Arithmetic(template, a, op == 0 ? '+' : '-', b);
                }
            case Skill.Reversal:
                return TaskPrompts.Reversal(template, words[rng.NextInt(words.Count)]);
            case Skill.Comparison:
                {
                    int a = rng.NextInt(31), b = rng.NextInt(30);
                    if (b >= a) b++; // uniform over the 30 numbers other than a
                    return TaskPrompts.Comparison(template, a, b);
                }
            case Skill.Counting:
                {
                    string w = words[rng.NextInt(words.Count)];
                    return TaskPrompts.Counting(template, w, w[rng.NextInt(w.Length)]);
                }
            case Skill.Sorting:
                {
                    var pool = Enumerable.Range(0, 10).ToList();
                    rng.Shuffle(pool);
                    return TaskPrompts.Sorting(template, pool.GetRange(0, 3));
                }
            case Skill.Parity:
                return TaskPrompts.Parity(template, rng.NextInt(100));
            default:
                throw new ArgumentOutOfRangeException(nameof(skill), skill, "unknown skill");
        }
    }
}
