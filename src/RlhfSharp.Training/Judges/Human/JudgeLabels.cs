using System.Text.Json;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// An automatic judge's labels of the same pairs, read from its preference JSONL (what
/// <c>rlhf label</c> writes, or any file the trainers read), to compare people with. A line with
/// <c>"label": "tie"</c> or <c>"both_bad"</c> and <c>response_a</c>/<c>response_b</c> (the side-file
/// form) is a tie or both-bad; skips are ignored. Pairs are matched by content
/// (<see cref="PairItem.Id"/>), whichever response the file names first.
/// </summary>
public sealed class JudgeLabels
{
    private JudgeLabels(string source, Dictionary<string, Judgement> labels)
    {
        Source = source;
        Labels = labels;
    }

    /// <summary>The file the labels came from.</summary>
    public string Source { get; }

    /// <summary>The judge's label per pair id.</summary>
    public IReadOnlyDictionary<string, Judgement> Labels { get; }

    public static JudgeLabels Load(string path)
    {
        var lines = new Dictionary<string, int>();
        var labels = new Dictionary<string, Judgement>();
        _ = JsonlReader.ReadFile(path, null, (line, context) =>
        {
            var (id, judgement) = Parse(line, context);
            if (judgement is { } j)
            {
                if (lines.TryGetValue(id, out int first))
                    throw context.Error(DataErrorKind.DuplicateLabel, null,
                        $"labels the same pair as line {first}; a judge file holds one label per pair.");
                lines[id] = context.Line;
                labels[id] = j;
            }
            return id;
        });
        return new JudgeLabels(path, labels);
    }

    private static (string Id, Judgement? Judgement) Parse(JsonElement line, LineContext context)
    {
        if (!JsonFields.Has(line, "chosen") && JsonFields.Has(line, "label"))
        {
            const string need = "a line without chosen and rejected needs \"label\" (tie, both_bad or skip), \"prompt\", \"response_a\" and \"response_b\".";
            var label = JsonFields.String(line.GetProperty("label"), "label", context);
            var prompt = JsonFields.Prompt(JsonFields.Require(line, "prompt", context, need), "prompt", context);
            var a = JsonFields.String(JsonFields.Require(line, "response_a", context, need), "response_a", context);
            var b = JsonFields.String(JsonFields.Require(line, "response_b", context, need), "response_b", context);
            Judgement? judgement = label switch
            {
                "tie" => Judgement.Tie,
                "both_bad" => Judgement.BothBad,
                "skip" => null,
                _ => throw context.Error(DataErrorKind.WrongType, "label", $"expected \"tie\", \"both_bad\" or \"skip\" on a line without chosen and rejected, found \"{label}\"."),
            };
            return (PairItem.ComputeId(prompt, a, b), judgement);
        }
        var example = PreferenceDataset.Parse(line, context);
        string chosen = example.Chosen.Content, rejected = example.Rejected.Content;
        return (PairItem.ComputeId(example.Prompt, chosen, rejected), PairItem.IsFirstInOrder(chosen, rejected) ? Judgement.First : Judgement.Second);
    }
}
