using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>Small pair lists and pairs files for the tests.</summary>
internal static class TestPairs
{
    /// <summary>n pairs "What is i + i?" with a right and a wrong answer.</summary>
    public static List<PairItem> Arithmetic(int n) =>
        [.. Enumerable.Range(1, n).Select(i => PairItem.Create([ChatMessage.User($"What is {i} + {i}?")], $"{i} + {i} = {2 * i}.", $"{i} + {i} = {(2 * i) + 1}."))];

    /// <summary>Writes <paramref name="items"/> as a pairs file ({"prompt", "response_a", "response_b"}).</summary>
    public static string Write(string path, IEnumerable<PairItem> items)
    {
        File.WriteAllLines(path, items.Select(i => new JsonObject
        {
            ["prompt"] = i.Prompt.Count == 1 ? i.Prompt[0].Content : PromptJson.Messages(i.Prompt),
            ["response_a"] = i.A,
            ["response_b"] = i.B,
        }.ToJsonString()));
        return path;
    }

    public static Submission Label(string labeller, PairItem item, HumanChoice choice, Side left = Side.A, double seconds = 2) =>
        new(labeller, item.Id, left, choice, Seconds: seconds);
}

/// <summary>A clock the tests move by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}
