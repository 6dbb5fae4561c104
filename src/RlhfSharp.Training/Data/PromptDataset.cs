using System.Text.Json;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Prompts for reinforcement learning (PPO, GRPO, RLOO), one JSON object per line:
/// <c>{"prompt": str}</c> (or a message list) or <c>{"messages": [...]}</c> without a final
/// assistant turn. Other fields are kept in <see cref="PromptExample.Extra"/>. A prompt must not
/// be empty.
/// </summary>
public sealed class PromptDataset : JsonlDataset<PromptExample>
{
    private PromptDataset(List<PromptExample> examples, LoadReport report)
        : base(examples, report)
    {
    }

    /// <summary>
    /// Reads a JSONL file, or Parquet with the same columns (a file, a folder or a shard pattern; see
    /// <see cref="DataFiles"/>). Throws <see cref="DataFormatException"/> on the first bad line or row unless bad ones are skipped.
    /// </summary>
    public static PromptDataset Load(string path, DataLoadOptions? options = null)
    {
        var (examples, report) = DataFiles.Read(path, options, Parse);
        return new PromptDataset(examples, report);
    }

    /// <summary>Reads JSONL from a stream; <paramref name="source"/> names it in errors.</summary>
    public static PromptDataset Load(Stream stream, string source, DataLoadOptions? options = null)
    {
        var (examples, report) = JsonlReader.Read(stream, source, options, Parse);
        return new PromptDataset(examples, report);
    }

    private static PromptExample Parse(JsonElement line, LineContext context)
    {
        string field = JsonFields.Has(line, "messages") ? "messages" : "prompt";
        var value = JsonFields.Require(line, field, context, "a prompt line needs a \"prompt\" string or a \"messages\" list.");
        var messages = field == "messages" ? JsonFields.Messages(value, field, context) : JsonFields.Prompt(value, field, context);
        if (messages.Count == 0 || messages.All(m => string.IsNullOrWhiteSpace(m.Content)))
            throw context.Error(DataErrorKind.EmptyPrompt, field, "is empty; the policy needs a prompt to respond to.");
        if (messages[^1].IsAssistant)
            throw context.Error(DataErrorKind.InvalidDialogue, $"{field}[{messages.Count - 1}].role",
                "the prompt ends with an assistant turn; a prompt for generation ends with a user (or system) turn, so drop the final assistant turn.");
        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in line.EnumerateObject())
            if (property.Name is not ("prompt" or "messages")) extra[property.Name] = property.Value.Clone();
        return new PromptExample(messages, context.File, context.Line) { Extra = extra };
    }
}
