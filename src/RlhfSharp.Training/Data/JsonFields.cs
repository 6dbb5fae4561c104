using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>Reads the fields the data formats use, throwing errors that name the field and the fix.</summary>
internal static class JsonFields
{
    private static readonly string[] Roles = ["system", "user", "assistant"];

    /// <summary>A short description of a JSON value for messages: <c>a number (5)</c>, <c>null</c>.</summary>
    public static string Describe(JsonElement value)
    {
        var raw = value.GetRawText();
        if (raw.Length > 40) raw = raw[..37] + "...";
        return value.ValueKind switch
        {
            JsonValueKind.String => $"a string ({raw})",
            JsonValueKind.Number => $"a number ({raw})",
            JsonValueKind.True or JsonValueKind.False => $"a boolean ({raw})",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => $"an array ({raw})",
            JsonValueKind.Object => $"an object ({raw})",
            _ => raw,
        };
    }

    public static bool Has(JsonElement obj, string field) => obj.TryGetProperty(field, out _);

    /// <summary>The field's value, or a <see cref="DataErrorKind.MissingField"/> error saying what the line needs.</summary>
    public static JsonElement Require(JsonElement obj, string field, LineContext context, string need)
        => obj.TryGetProperty(field, out var value)
            ? value
            : throw context.Error(DataErrorKind.MissingField, field, $"missing; {need}");

    /// <summary>A string value, or a <see cref="DataErrorKind.WrongType"/> error.</summary>
    public static string String(JsonElement value, string field, LineContext context)
        => value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw context.Error(DataErrorKind.WrongType, field, $"expected a string, found {Describe(value)}; write it as \"{field}\": \"...\".");

    /// <summary>
    /// A list of <c>{"role": ..., "content": ...}</c> objects with roles system, user or assistant
    /// (case-insensitive, stored lower-case).
    /// </summary>
    public static List<ChatMessage> Messages(JsonElement value, string field, LineContext context)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw context.Error(DataErrorKind.WrongType, field,
                $"expected a list of messages like [{{\"role\": \"user\", \"content\": \"...\"}}], found {Describe(value)}.");
        var messages = new List<ChatMessage>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"{field}[{i}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw context.Error(DataErrorKind.WrongType, path,
                    $"expected a message object {{\"role\": \"...\", \"content\": \"...\"}}, found {Describe(item)}.");
            var role = String(RequireAt(item, "role", path, context), path + ".role", context);
            var content = String(RequireAt(item, "content", path, context), path + ".content", context);
            var known = Roles.FirstOrDefault(r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase))
                ?? throw context.Error(DataErrorKind.UnknownRole, path + ".role",
                    $"unknown role \"{role}\"; expected one of \"system\", \"user\", \"assistant\".");
            messages.Add(new ChatMessage(known, content));
            i++;
        }
        if (messages.Count == 0)
            throw context.Error(DataErrorKind.InvalidDialogue, field, "the message list is empty; expected at least one message.");
        return messages;
    }

    /// <summary>A prompt given as a string (one user turn; none when empty) or as a message list.</summary>
    public static List<ChatMessage> Prompt(JsonElement value, string field, LineContext context)
    {
        if (value.ValueKind == JsonValueKind.Array) return Messages(value, field, context);
        if (value.ValueKind != JsonValueKind.String)
            throw context.Error(DataErrorKind.WrongType, field,
                $"expected a string or a list of messages, found {Describe(value)}; write it as \"{field}\": \"...\".");
        var text = value.GetString()!;
        return text.Length == 0 ? [] : [ChatMessage.User(text)];
    }

    private static JsonElement RequireAt(JsonElement obj, string name, string path, LineContext context)
        => obj.TryGetProperty(name, out var value)
            ? value
            : throw context.Error(DataErrorKind.MissingField, $"{path}.{name}", "missing; a message needs \"role\" and \"content\" strings.");
}
