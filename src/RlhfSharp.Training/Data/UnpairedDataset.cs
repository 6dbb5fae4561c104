using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Unpaired preference data for KTO, one JSON object per line (or Parquet row), in TRL's unpaired
/// preference format <c>{"prompt": str|messages, "completion": str|messages, "label": true|false}</c>.
/// A completion given as messages ends with the assistant turn; the turns before it are appended to
/// the prompt. A line holding a preference pair instead (<c>prompt</c>/<c>chosen</c>/<c>rejected</c>,
/// any form <see cref="PreferenceDataset"/> reads) is unpaired as TRL's <c>unpair_preference_dataset</c>
/// does: two examples, the chosen response labelled true and the rejected one false, so a paired file
/// such as the built-in task's prefs_train.jsonl trains KTO as it is.
/// </summary>
public sealed class UnpairedDataset : JsonlDataset<UnpairedExample>
{
    private const string Need = "an unpaired line needs \"prompt\", \"completion\" and \"label\" (true for a desirable completion, false for an undesirable one), or a preference pair's \"chosen\" and \"rejected\".";

    private UnpairedDataset(List<UnpairedExample> examples, LoadReport report)
        : base(examples, report)
    {
    }

    /// <summary>
    /// Reads a JSONL file, or Parquet with the same columns (see <see cref="DataFiles"/>). Throws
    /// <see cref="DataFormatException"/> naming the file, line and field on the first bad line unless bad ones are skipped.
    /// </summary>
    public static UnpairedDataset Load(string path, DataLoadOptions? options = null)
    {
        var (lines, report) = DataFiles.Read(path, options, Parse);
        return new UnpairedDataset([.. lines.SelectMany(l => l)], report);
    }

    /// <summary>Reads JSONL from a stream; <paramref name="source"/> names it in errors.</summary>
    public static UnpairedDataset Load(Stream stream, string source, DataLoadOptions? options = null)
    {
        var (lines, report) = JsonlReader.Read(stream, source, options, Parse);
        return new UnpairedDataset([.. lines.SelectMany(l => l)], report);
    }

    /// <summary>Desirable examples in the set.</summary>
    public int Desirable => this.Count(e => e.Label);

    internal static UnpairedExample[] Parse(JsonElement line, LineContext context)
    {
        if (!JsonFields.Has(line, "label") && (JsonFields.Has(line, "chosen") || JsonFields.Has(line, "rejected")))
        {
            var pair = PreferenceDataset.Parse(line, context);
            return
            [
                new UnpairedExample(pair.Prompt, pair.Chosen, true, context.File, context.Line),
                new UnpairedExample(pair.Prompt, pair.Rejected, false, context.File, context.Line),
            ];
        }
        var labelValue = JsonFields.Require(line, "label", context, Need);
        if (labelValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw context.Error(DataErrorKind.WrongType, "label",
                $"expected true (desirable) or false (undesirable), found {JsonFields.Describe(labelValue)}; write it as \"label\": true.");
        var prompt = JsonFields.Prompt(JsonFields.Require(line, "prompt", context, Need), "prompt", context);
        var completionValue = JsonFields.Require(line, "completion", context, Need);
        string completion;
        if (completionValue.ValueKind == JsonValueKind.String)
        {
            completion = completionValue.GetString()!;
        }
        else if (completionValue.ValueKind == JsonValueKind.Array)
        {
            var messages = JsonFields.Messages(completionValue, "completion", context);
            int last = messages.Count - 1;
            if (!messages[last].IsAssistant)
                throw context.Error(DataErrorKind.InvalidDialogue, $"completion[{last}].role",
                    $"the last message is a \"{messages[last].Role}\" turn; a completion must end with the assistant turn being labelled.");
            prompt.AddRange(messages.GetRange(0, last));
            completion = messages[last].Content;
        }
        else
        {
            throw context.Error(DataErrorKind.WrongType, "completion",
                $"expected a string or a list of messages, found {JsonFields.Describe(completionValue)}; write it as \"completion\": \"...\".");
        }
        if (string.IsNullOrWhiteSpace(completion))
            throw context.Error(DataErrorKind.EmptyResponse, "completion", "the completion is empty; KTO labels a non-empty assistant response.");
        return [new UnpairedExample(prompt, ChatMessage.Assistant(completion), labelValue.GetBoolean(), context.File, context.Line)];
    }
}
