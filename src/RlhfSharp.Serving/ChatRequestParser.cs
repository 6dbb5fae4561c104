using System.Text;
using System.Text.Json;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Serving;

/// <summary>
/// Reads a chat completion request body. Every problem is an <see cref="ApiError"/> (HTTP 400) whose
/// message and <c>param</c> name the field; fields this server does not use are ignored, as OpenAI's
/// clients send many.
/// </summary>
internal static class ChatRequestParser
{
    /// <summary>The roles a message may have.</summary>
    public static readonly IReadOnlyList<string> Roles = ["system", "user", "assistant"];

    public const int MaxStopStrings = 4;

    public static ChatRequest Parse(ReadOnlyMemory<byte> body)
    {
        JsonApi.CheckUnicode(body.Span);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new ApiError(400, $"The request body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ApiError(400, $"The request body must be a JSON object, got {Kind(root)}.", null, "invalid_json");

            string? model = OptionalString(root, "model");
            var messages = Messages(root);
            int? maxTokens = OptionalInt(root, "max_completion_tokens") ?? OptionalInt(root, "max_tokens");
            if (maxTokens is < 1)
                throw ApiError.BadRequest($"max_tokens must be at least 1, got {maxTokens}.", "max_tokens");
            float temperature = OptionalNumber(root, "temperature") ?? 1f;
            if (!(temperature is >= 0f and <= 2f))
                throw ApiError.BadRequest($"temperature must be between 0 and 2, got {temperature}.", "temperature");
            float topP = OptionalNumber(root, "top_p") ?? 1f;
            if (!(topP is > 0f and <= 1f))
                throw ApiError.BadRequest($"top_p must be in (0, 1], got {topP}.", "top_p");
            long? seed = OptionalLong(root, "seed");
            if (OptionalInt(root, "n") is int n && n != 1)
                throw ApiError.BadRequest($"n must be 1 (one choice per request), got {n}.", "n");
            bool stream = OptionalBool(root, "stream") ?? false;
            bool includeUsage = false;
            if (Optional(root, "stream_options") is { } streamOptions)
            {
                if (streamOptions.ValueKind != JsonValueKind.Object)
                    throw ApiError.BadRequest($"stream_options must be an object like {{\"include_usage\": true}}, got {Kind(streamOptions)}.", "stream_options");
                if (!stream)
                    throw ApiError.BadRequest("stream_options is only allowed with stream: true.", "stream_options");
                includeUsage = OptionalBool(streamOptions, "include_usage", "stream_options.include_usage") ?? false;
            }
            return new ChatRequest(model, messages, maxTokens, temperature, topP, seed, Stop(root), stream, includeUsage);
        }
    }

    private static List<ChatMessage> Messages(JsonElement root)
    {
        if (Optional(root, "messages") is not { } array)
            throw ApiError.BadRequest("messages is required: a non-empty array of {\"role\", \"content\"} objects.", "messages", "missing_required_parameter");
        if (array.ValueKind != JsonValueKind.Array)
            throw ApiError.BadRequest($"messages must be an array of {{\"role\", \"content\"}} objects, got {Kind(array)}.", "messages");
        if (array.GetArrayLength() == 0)
            throw ApiError.BadRequest("messages must not be empty.", "messages");
        var messages = new List<ChatMessage>();
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string at = $"messages[{i}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest($"{at} must be an object with role and content, got {Kind(item)}.", at);
            if (Optional(item, "role") is not { ValueKind: JsonValueKind.String } roleElement)
                throw ApiError.BadRequest($"{at}.role is required: one of {string.Join(", ", Roles)}.", $"{at}.role");
            string role = roleElement.GetString()!;
            if (!Roles.Contains(role, StringComparer.Ordinal))
                throw ApiError.BadRequest($"{at}.role '{role}' is unknown; expected one of {string.Join(", ", Roles)}.", $"{at}.role");
            messages.Add(new ChatMessage(role, Content(item, $"{at}.content")));
            i++;
        }
        return messages;
    }

    // A string, or OpenAI's array of content parts of which this server takes the text ones.
    private static string Content(JsonElement message, string at)
    {
        var content = Optional(message, "content");
        if (content is { ValueKind: JsonValueKind.String } s)
            return s.GetString()!;
        if (content is { ValueKind: JsonValueKind.Array } parts)
        {
            var text = new StringBuilder();
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || Optional(part, "type") is not { ValueKind: JsonValueKind.String } type
                    || type.GetString() != "text" || Optional(part, "text") is not { ValueKind: JsonValueKind.String } partText)
                {
                    throw ApiError.BadRequest($"{at}: only text parts ({{\"type\": \"text\", \"text\": \"...\"}}) are supported.", at);
                }
                text.Append(partText.GetString());
            }
            return text.ToString();
        }
        throw ApiError.BadRequest($"{at} is required: a string, got {(content is null ? "nothing" : Kind(content.Value))}.", at);
    }

    private static List<string> Stop(JsonElement root)
    {
        var stop = Optional(root, "stop");
        if (stop is null)
            return [];
        var items = stop.Value.ValueKind == JsonValueKind.Array ? [.. stop.Value.EnumerateArray()] : new List<JsonElement> { stop.Value };
        if (items.Count > MaxStopStrings)
            throw ApiError.BadRequest($"stop takes at most {MaxStopStrings} strings, got {items.Count}.", "stop");
        var result = new List<string>();
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } text)
                throw ApiError.BadRequest("stop must be a non-empty string or an array of them.", "stop");
            result.Add(text);
        }
        return result;
    }

    // A property that is present and not null.
    private static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? OptionalString(JsonElement obj, string name)
    {
        var value = Optional(obj, name);
        if (value is null)
            return null;
        return value.Value.ValueKind == JsonValueKind.String
            ? value.Value.GetString()
            : throw ApiError.BadRequest($"{name} must be a string, got {Kind(value.Value)}.", name);
    }

    private static bool? OptionalBool(JsonElement obj, string name, string? param = null)
    {
        var value = Optional(obj, name);
        if (value is null)
            return null;
        return value.Value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.Value.GetBoolean()
            : throw ApiError.BadRequest($"{param ?? name} must be true or false, got {Kind(value.Value)}.", param ?? name);
    }

    private static int? OptionalInt(JsonElement obj, string name)
    {
        var value = Optional(obj, name);
        if (value is null)
            return null;
        return value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetInt32(out int n)
            ? n
            : throw ApiError.BadRequest($"{name} must be an integer, got {Describe(value.Value)}.", name);
    }

    private static long? OptionalLong(JsonElement obj, string name)
    {
        var value = Optional(obj, name);
        if (value is null)
            return null;
        return value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetInt64(out long n)
            ? n
            : throw ApiError.BadRequest($"{name} must be a 64-bit integer, got {Describe(value.Value)}.", name);
    }

    private static float? OptionalNumber(JsonElement obj, string name)
    {
        var value = Optional(obj, name);
        if (value is null)
            return null;
        return value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetDouble(out double x) && double.IsFinite(x)
            ? (float)x
            : throw ApiError.BadRequest($"{name} must be a number, got {Describe(value.Value)}.", name);
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Describe(JsonElement e)
    {
        string raw = e.GetRawText();
        return e.ValueKind == JsonValueKind.Number ? raw : $"{Kind(e)} ({(raw.Length > 40 ? raw[..40] + "..." : raw)})";
    }
}
