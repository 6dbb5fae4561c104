using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Supervised fine-tuning data, one JSON object per line, either
/// <c>{"prompt": str, "completion": str}</c> (the prompt may also be a message list; an empty
/// prompt gives a conversation of the completion alone) or
/// <c>{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}</c> ending with
/// the assistant turn that is the completion. Other fields are ignored. The completion must not
/// be empty or only whitespace.
/// </summary>
public sealed class SftDataset : JsonlDataset<SftExample>
{
    private SftDataset(List<SftExample> examples, LoadReport report)
        : base(examples, report)
    {
    }

    /// <summary>
    /// Reads a JSONL file, or Parquet with the same columns (a file, a folder or a shard pattern; see
    /// <see cref="DataFiles"/>). Throws <see cref="DataFormatException"/> on the first bad line or row unless bad ones are skipped.
    /// </summary>
    public static SftDataset Load(string path, DataLoadOptions? options = null)
    {
        var (examples, report) = DataFiles.Read(path, options, Parse);
        return new SftDataset(examples, report);
    }

    /// <summary>Reads JSONL from a stream; <paramref name="source"/> names it in errors.</summary>
    public static SftDataset Load(Stream stream, string source, DataLoadOptions? options = null)
    {
        var (examples, report) = JsonlReader.Read(stream, source, options, Parse);
        return new SftDataset(examples, report);
    }

    private static SftExample Parse(JsonElement line, LineContext context)
    {
        if (JsonFields.Has(line, "messages"))
        {
            var messages = JsonFields.Messages(line.GetProperty("messages"), "messages", context);
            int last = messages.Count - 1;
            if (!messages[last].IsAssistant)
                throw context.Error(DataErrorKind.InvalidDialogue, $"messages[{last}].role",
                    $"the last message is a \"{messages[last].Role}\" turn; an SFT conversation must end with the assistant turn to train on.");
            if (string.IsNullOrWhiteSpace(messages[last].Content))
                throw context.Error(DataErrorKind.EmptyResponse, $"messages[{last}].content",
                    "the final assistant turn is empty; the completion needs text to train on.");
            return new SftExample(messages, context.File, context.Line);
        }
        const string need = "an SFT line needs \"prompt\" and \"completion\" strings, or a \"messages\" list ending with an assistant turn.";
        var prompt = JsonFields.Prompt(JsonFields.Require(line, "prompt", context, need), "prompt", context);
        var completion = JsonFields.String(JsonFields.Require(line, "completion", context, need), "completion", context);
        if (string.IsNullOrWhiteSpace(completion))
            throw context.Error(DataErrorKind.EmptyResponse, "completion", "is empty; the completion needs text to train on.");
        return new SftExample([.. prompt, ChatMessage.Assistant(completion)], context.File, context.Line);
    }
}
