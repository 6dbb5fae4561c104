using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Judges;

/// <summary>The question a language-model judge is asked, and how its answer is read.</summary>
public static partial class JudgePrompt
{
    /// <summary>Asks which of two responses is better, with <paramref name="first"/> shown as A and <paramref name="second"/> as B.</summary>
    public static string Build(JudgeItem item, string first, string second)
    {
        ArgumentNullException.ThrowIfNull(item);
        var text = new StringBuilder();
        text.Append("Compare two responses to the same request and decide which one is better: ");
        text.Append("correct first, then helpful and polite, then concise.\n\n");
        if (item.Prompt.Count == 1)
        {
            text.Append("Request:\n").Append(item.Prompt[0].Content).Append("\n\n");
        }
        else
        {
            text.Append("Conversation:\n");
            foreach (var m in item.Prompt)
                text.Append(m.Role).Append(": ").Append(m.Content).Append('\n');
            text.Append('\n');
        }
        text.Append("Response A:\n").Append(first).Append("\n\n");
        text.Append("Response B:\n").Append(second).Append("\n\n");
        text.Append("Answer with one letter: A or B.");
        return text.ToString();
    }

    /// <summary>The first standalone capital A or B in the answer; null when there is none.</summary>
    public static char? ReadChoice(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var match = Choice().Match(answer);
        return match.Success ? match.Value[0] : null;
    }

    [GeneratedRegex(@"(?<![\p{L}\p{N}])[AB](?![\p{L}\p{N}])")]
    private static partial Regex Choice();
}
