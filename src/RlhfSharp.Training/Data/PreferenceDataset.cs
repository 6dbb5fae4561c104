using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Preference pairs, one JSON object per line, in one of these forms (other fields, such as a
/// labelling tool's labeller, ratings or timestamps, are ignored):
/// <list type="bullet">
/// <item><c>{"prompt": str, "chosen": str, "rejected": str}</c>; the prompt may be a message list.</item>
/// <item>chosen/rejected as message lists: either the response alone
/// (<c>[{"role": "assistant", "content": ...}]</c>) or whole dialogues ending with the assistant
/// response; the turns before the response are appended to the prompt and must be the same in
/// chosen and rejected. Without a <c>"prompt"</c> field those shared turns are the prompt.</item>
/// <item>Anthropic HH: <c>{"chosen": "\n\nHuman: ...\n\nAssistant: ...", "rejected": "..."}</c>
/// with no prompt field: both are whole dialogues, split at the last <c>"\n\nAssistant:"</c>;
/// the text before it must be identical and becomes the prompt turns.</item>
/// </list>
/// Responses must not be empty or only whitespace, and chosen == rejected is an error
/// (<see cref="DataErrorKind.IdenticalResponses"/>), not a warning: such a pair carries no preference
/// and a Bradley–Terry or DPO loss on it only pushes the two equal responses apart from nothing.
/// </summary>
public sealed class PreferenceDataset : JsonlDataset<PreferenceExample>
{
    private PreferenceDataset(List<PreferenceExample> examples, LoadReport report)
        : base(examples, report)
    {
    }

    /// <summary>
    /// Reads a JSONL file, or Parquet with the same columns (a file, a folder or a shard pattern; see
    /// <see cref="DataFiles"/>). Throws <see cref="DataFormatException"/> on the first bad line or row unless bad ones are skipped.
    /// </summary>
    public static PreferenceDataset Load(string path, DataLoadOptions? options = null)
    {
        var (examples, report) = DataFiles.Read(path, options, Parse);
        return new PreferenceDataset(examples, report);
    }

    /// <summary>Reads JSONL from a stream; <paramref name="source"/> names it in errors.</summary>
    public static PreferenceDataset Load(Stream stream, string source, DataLoadOptions? options = null)
    {
        var (examples, report) = JsonlReader.Read(stream, source, options, Parse);
        return new PreferenceDataset(examples, report);
    }

    /// <summary>
    /// Reads pairs a labeller found equally good, one <c>{"prompt", "response_a", "response_b"}</c> object
    /// a line (as <c>rlhf label</c> writes to ties.jsonl; the prompt may be a message list), as examples
    /// with <see cref="PreferenceExample.Tie"/> set. A line with a <c>"label"</c> field is a tie only when
    /// it says "tie", so the side file of human labelling (ties, both-bad and skips) can be read as it is.
    /// </summary>
    public static PreferenceDataset LoadTies(string path, DataLoadOptions? options = null)
    {
        var (examples, report) = DataFiles.Read<PreferenceExample?>(path, options, ParseTie);
        return new PreferenceDataset([.. examples.OfType<PreferenceExample>()], report);
    }

    internal static PreferenceExample? ParseTie(JsonElement line, LineContext context)
    {
        if (JsonFields.Has(line, "label") && JsonFields.String(line.GetProperty("label"), "label", context) != "tie")
            return null;
        var (prompt, a, b) = ResponsePair(line, context,
            "a tie line needs \"prompt\", \"response_a\" and \"response_b\": the prompt and the two responses found equally good.",
            "the response is empty; a tie needs two non-empty responses.",
            "is identical to \"response_a\"; a tie says two different responses are equally good (drop the line).");
        return new PreferenceExample(prompt, ChatMessage.Assistant(a), ChatMessage.Assistant(b), context.File, context.Line) { Tie = true };
    }

    /// <summary>
    /// The prompt and the two responses of a <c>{"prompt", "response_a", "response_b"}</c> line, which must
    /// be non-empty and different; <paramref name="need"/>, <paramref name="empty"/> and
    /// <paramref name="identical"/> say in the caller's words what a line needs and what is wrong.
    /// </summary>
    internal static (List<ChatMessage> Prompt, string A, string B) ResponsePair(JsonElement line, LineContext context, string need, string empty, string identical)
    {
        var prompt = JsonFields.Prompt(JsonFields.Require(line, "prompt", context, need), "prompt", context);
        var a = JsonFields.String(JsonFields.Require(line, "response_a", context, need), "response_a", context);
        var b = JsonFields.String(JsonFields.Require(line, "response_b", context, need), "response_b", context);
        if (string.IsNullOrWhiteSpace(a))
            throw context.Error(DataErrorKind.EmptyResponse, "response_a", empty);
        if (string.IsNullOrWhiteSpace(b))
            throw context.Error(DataErrorKind.EmptyResponse, "response_b", empty);
        if (string.Equals(a, b, StringComparison.Ordinal))
            throw context.Error(DataErrorKind.IdenticalResponses, "response_b", identical);
        return (prompt, a, b);
    }

    internal static PreferenceExample Parse(JsonElement line, LineContext context)
    {
        const string need = "a preference line needs \"chosen\" and \"rejected\" (strings or message lists), with a \"prompt\" unless they are whole dialogues.";
        var chosenValue = JsonFields.Require(line, "chosen", context, need);
        var rejectedValue = JsonFields.Require(line, "rejected", context, need);
        CheckKind(chosenValue, "chosen", context);
        CheckKind(rejectedValue, "rejected", context);
        bool hasPrompt = JsonFields.Has(line, "prompt");

        List<ChatMessage> prompt;
        string chosen, rejected;
        if (!hasPrompt && chosenValue.ValueKind == JsonValueKind.String && rejectedValue.ValueKind == JsonValueKind.String)
        {
            (prompt, chosen, rejected) = SplitHh(chosenValue.GetString()!, rejectedValue.GetString()!, context);
        }
        else
        {
            if (!hasPrompt && (chosenValue.ValueKind == JsonValueKind.String || rejectedValue.ValueKind == JsonValueKind.String))
                throw context.Error(DataErrorKind.MissingField, "prompt",
                    "missing; when chosen or rejected is a plain response string the line needs a \"prompt\" (or give both as whole dialogues).");
            prompt = hasPrompt ? JsonFields.Prompt(line.GetProperty("prompt"), "prompt", context) : [];
            var (chosenTurns, chosenText) = Response(chosenValue, "chosen", context);
            var (rejectedTurns, rejectedText) = Response(rejectedValue, "rejected", context);
            if (!chosenTurns.SequenceEqual(rejectedTurns))
                throw context.Error(DataErrorKind.InvalidDialogue, "rejected",
                    "its turns before the final assistant response differ from chosen's; both dialogues must share the prompt and differ only in the last assistant turn.");
            prompt.AddRange(chosenTurns);
            (chosen, rejected) = (chosenText, rejectedText);
        }

        if (string.IsNullOrWhiteSpace(chosen))
            throw context.Error(DataErrorKind.EmptyResponse, "chosen", "the response is empty; a preference pair needs two non-empty responses.");
        if (string.IsNullOrWhiteSpace(rejected))
            throw context.Error(DataErrorKind.EmptyResponse, "rejected", "the response is empty; a preference pair needs two non-empty responses.");
        if (string.Equals(chosen, rejected, StringComparison.Ordinal))
            throw context.Error(DataErrorKind.IdenticalResponses, "rejected",
                "is identical to \"chosen\"; a preference pair needs two different responses (drop the line or fix the labels).");
        return new PreferenceExample(prompt, ChatMessage.Assistant(chosen), ChatMessage.Assistant(rejected), context.File, context.Line);
    }

    private static void CheckKind(JsonElement value, string field, LineContext context)
    {
        if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            throw context.Error(DataErrorKind.WrongType, field,
                $"expected a string or a list of messages, found {JsonFields.Describe(value)}; write it as \"{field}\": \"...\".");
    }

    /// <summary>A response given as a string, or as messages ending with the assistant response (the turns before it returned too).</summary>
    private static (List<ChatMessage> Before, string Text) Response(JsonElement value, string field, LineContext context)
    {
        if (value.ValueKind == JsonValueKind.String) return ([], value.GetString()!);
        var messages = JsonFields.Messages(value, field, context);
        int last = messages.Count - 1;
        if (!messages[last].IsAssistant)
            throw context.Error(DataErrorKind.InvalidDialogue, $"{field}[{last}].role",
                $"the last message is a \"{messages[last].Role}\" turn; {field} must end with the assistant response.");
        return (messages.GetRange(0, last), messages[last].Content);
    }

    private static (List<ChatMessage> Prompt, string Chosen, string Rejected) SplitHh(string chosen, string rejected, LineContext context)
    {
        var c = HhDialogue.Split(chosen) ?? throw NoMarker("chosen", context);
        var r = HhDialogue.Split(rejected) ?? throw NoMarker("rejected", context);
        if (!string.Equals(c.Prompt, r.Prompt, StringComparison.Ordinal))
        {
            int at = HhDialogue.FirstDifference(c.Prompt, r.Prompt);
            throw context.Error(DataErrorKind.InvalidDialogue, "rejected",
                $"the dialogue before the last \"\\n\\nAssistant:\" differs from chosen's at character {at}; in the HH form chosen and rejected must share that prefix (the prompt) and differ only in the final assistant response.");
        }
        return (HhDialogue.Turns(c.Prompt), c.Response, r.Response);
    }

    private static DataFormatException NoMarker(string field, LineContext context)
        => context.Error(DataErrorKind.InvalidDialogue, field,
            "has no \"\\n\\nAssistant:\" marker; without a \"prompt\" field chosen and rejected must be whole HH dialogues (\"\\n\\nHuman: ...\\n\\nAssistant: ...\"), otherwise add a \"prompt\".");
}
