using System.Text.Json;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Evaluation;

/// <summary>
/// The skill each held-out prompt asks, for the per-skill results of the pipeline's comparison and of <c>rlhf eval</c>: a
/// line's own <c>skill</c> field (a non-empty string), else, in the built-in task's data, the skill
/// the task reads from the prompt (<see cref="TaskPrompts"/>; lower case, e.g. "arithmetic"). Either
/// every prompt has a skill or none does; with none there are no per-skill results.
/// </summary>
public static class HeldOutSkills
{
    /// <summary>The field a prompt line names its skill with.</summary>
    public const string Field = "skill";

    /// <summary>Each prompt's skill, in order, or null when no prompt has one.</summary>
    /// <param name="builtinTask">Whether the data is the built-in task's (it has the gold scorer), whose prompts name their skill by their text.</param>
    /// <exception cref="DataFormatException">A <c>skill</c> is not a non-empty string, or some prompts have a skill and others not.</exception>
    public static IReadOnlyList<string>? Of(IReadOnlyList<PromptExample> prompts, bool builtinTask)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var skills = new string?[prompts.Count];
        int first = -1, missing = -1;
        for (int i = 0; i < prompts.Count; i++)
        {
            skills[i] = SkillOf(prompts[i], builtinTask);
            if (skills[i] is null)
                missing = missing < 0 ? i : missing;
            else
                first = first < 0 ? i : first;
        }
        if (first < 0)
            return null;
        if (missing >= 0)
        {
            var p = prompts[missing];
            throw new DataFormatException(DataErrorKind.MissingField, p.Source, p.Line, Field,
                $"is missing while line {prompts[first].Line} has one (\"{skills[first]}\"); give every held-out prompt a \"{Field}\" string, or none for no per-skill results.");
        }
        return skills!;
    }

    /// <summary>
    /// The answers of each skill: per skill, in ordinal order of the names, the indices of the entries
    /// of <paramref name="skills"/> (one per answer) that name it.
    /// </summary>
    public static IEnumerable<(string Skill, List<int> Answers)> Groups(IReadOnlyList<string> skills) =>
        Enumerable.Range(0, skills.Count).GroupBy(i => skills[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.ToList()));

    private static string? SkillOf(PromptExample prompt, bool builtinTask)
    {
        if (prompt.Extra.TryGetValue(Field, out var value))
        {
            if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            {
                throw new DataFormatException(DataErrorKind.WrongType, prompt.Source, prompt.Line, Field,
                    $"is {JsonFields.Describe(value)}; a skill is a non-empty string naming what the prompt asks (e.g. \"arithmetic\").");
            }
            return value.GetString()!.Trim();
        }
        return builtinTask && TaskPrompts.TryParse(PolicyEvaluator.PromptText(prompt), out var problem)
            ? problem.Skill.ToString().ToLowerInvariant()
            : null;
    }
}
