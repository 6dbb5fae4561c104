using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// A conversation file: one JSON object <c>{"messages": [{"role": "...", "content": "..."}, ...],
/// "tools": [{...}, ...]}</c> (<c>tools</c> optional). Every problem is an <see cref="InputException"/>
/// naming the file, the line and column and the field.
/// </summary>
/// <param name="Messages">The messages as role and content (only when read for a built-in template, else empty).</param>
/// <param name="Json">The messages as the file has them, every field kept (for a model's own template).</param>
/// <param name="Tools">The tool schemas.</param>
internal sealed record MessagesFile(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<JsonNode> Json, IReadOnlyList<JsonNode?> Tools)
{
    private const string Shape = "{\"messages\": [{\"role\": \"user\", \"content\": \"...\"}], \"tools\": [...]}";

    /// <param name="path">The file.</param>
    /// <param name="anyFields">
    /// True for a model's own template: a message needs a string "role" and may hold any other
    /// field ("tool_calls", "reasoning_content", a null "content"...). False for a built-in template,
    /// which renders only string "role" and "content".
    /// </param>
    public static MessagesFile Read(string path, bool anyFields = false)
    {
        if (!File.Exists(path))
            throw new InputException($"{path}: file not found (--messages); expected a JSON file like {Shape}");
        return Parse(File.ReadAllBytes(path), path, anyFields);
    }

    public static MessagesFile Parse(byte[] json, string source, bool anyFields = false)
    {
        if (JsonUnicode.Find(json) is { } bad)
            throw new InputException($"{source}: line {bad.Line}, byte {bad.ByteInLine}: {bad.Reason}");
        var walker = new Walker(json, source, anyFields);
        try
        {
            return walker.File();
        }
        catch (JsonException e) when (e.LineNumber is not null)
        {
            throw new InputException(
                $"{source}: line {e.LineNumber + 1}, column {walker.Column((int)e.LineNumber!, (int)(e.BytePositionInLine ?? 0))}: invalid JSON ({FirstSentence(e.Message)}); expected {Shape}", e);
        }
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd(' ', '.');
    }

    private ref struct Walker(byte[] json, string source, bool anyFields)
    {
        private Utf8JsonReader _reader = new(json, new JsonReaderOptions { MaxDepth = 256 });

        public MessagesFile File()
        {
            Next();
            if (_reader.TokenType != JsonTokenType.StartObject)
                throw Error("(root)", $"expected a JSON object like {Shape}, found {Kind()}");
            List<ChatMessage>? messages = null;
            var tools = new List<JsonNode?>();
            while (Next() == JsonTokenType.PropertyName)
            {
                string key = _reader.GetString()!;
                long at = _reader.TokenStartIndex;
                Next();
                switch (key)
                {
                    case "messages":
                        messages = Messages();
                        break;
                    case "tools":
                        Tools(tools);
                        break;
                    default:
                        throw Error(key, "unknown key; the file has \"messages\" and optionally \"tools\"", at);
                }
            }
            if (messages is null)
                throw Error("messages", $"missing; expected {Shape}");
            if (messages.Count == 0)
                throw Error("messages", "the list is empty; give at least one message");
            if (Next() is var extra && extra != JsonTokenType.None)
                throw Error("(root)", "text after the JSON object; the file holds one object");
            var all = JsonNode.Parse(json)!["messages"]!.AsArray();
            return new MessagesFile(anyFields ? [] : messages, [.. all.Select(m => m!)], tools);
        }

        private List<ChatMessage> Messages()
        {
            if (_reader.TokenType != JsonTokenType.StartArray)
                throw Error("messages", $"expected a list of messages like [{{\"role\": \"user\", \"content\": \"...\"}}], found {Kind()}");
            var messages = new List<ChatMessage>();
            while (Next() != JsonTokenType.EndArray)
            {
                string path = $"messages[{messages.Count}]";
                if (_reader.TokenType != JsonTokenType.StartObject)
                    throw Error(path, $"expected a message object {{\"role\": \"...\", \"content\": \"...\"}}, found {Kind()}");
                long start = _reader.TokenStartIndex;
                string? role = null, content = null;
                while (Next() == JsonTokenType.PropertyName)
                {
                    string key = _reader.GetString()!;
                    long at = _reader.TokenStartIndex;
                    Next();
                    if (anyFields && (key != "role" || _reader.TokenType == JsonTokenType.String))
                    {
                        if (key == "role")
                            role = CheckedRole(path);
                        else if (key == "content")
                            content = "";
                        _reader.Skip();
                        continue;
                    }
                    if (key is not ("role" or "content"))
                        throw Error($"{path}.{key}", "unknown key; a message has \"role\" and \"content\" strings (the built-in templates render nothing else; a tokenizer with its own chat_template renders tool_calls and the rest)", at);
                    if (_reader.TokenType != JsonTokenType.String)
                        throw Error($"{path}.{key}", $"expected a string, found {Kind()}");
                    if (key == "role")
                        role = CheckedRole(path);
                    else
                        content = _reader.GetString()!;
                }
                if (anyFields && role is null)
                    throw Error(path, "missing \"role\"; a message needs a \"role\" string", start);
                if (!anyFields && (role is null || content is null))
                    throw Error(path, $"missing \"{(role is null ? "role" : "content")}\"; a message needs \"role\" and \"content\" strings", start);
                messages.Add(new ChatMessage(role!, content ?? ""));
            }
            return messages;
        }

        private readonly string CheckedRole(string path)
        {
            string value = _reader.GetString()!;
            if (value.Trim().Length == 0)
                throw Error($"{path}.role", "is empty; use system, user or assistant");
            return value;
        }

        private void Tools(List<JsonNode?> tools)
        {
            if (_reader.TokenType != JsonTokenType.StartArray)
                throw Error("tools", $"expected a list of tool objects, found {Kind()}");
            while (Next() != JsonTokenType.EndArray)
            {
                if (_reader.TokenType != JsonTokenType.StartObject)
                    throw Error($"tools[{tools.Count}]", $"expected a tool object {{\"type\": \"function\", \"function\": {{...}}}}, found {Kind()}");
                tools.Add(JsonNode.Parse(JsonElement.ParseValue(ref _reader).GetRawText()));
            }
        }

        private JsonTokenType Next() => _reader.Read() ? _reader.TokenType : JsonTokenType.None;

        private string Kind() => _reader.TokenType switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => "nothing",
        };

        private readonly InputException Error(string field, string problem, long? at = null)
        {
            int offset = (int)(at ?? _reader.TokenStartIndex);
            int line = 0, lineStart = 0;
            for (int i = 0; i < offset && i < json.Length; i++)
            {
                if (json[i] == (byte)'\n')
                {
                    line++;
                    lineStart = i + 1;
                }
            }
            return new InputException($"{source}: line {line + 1}, column {Column(line, offset - lineStart)}: field \"{field}\": {problem}");
        }

        // The 1-based character column of a 0-based byte position in a 0-based line.
        public readonly int Column(int line, int byteInLine)
        {
            int start = 0;
            for (int l = 0; l < line && start < json.Length; l++)
            {
                int nl = Array.IndexOf(json, (byte)'\n', start);
                start = nl < 0 ? json.Length : nl + 1;
            }
            int length = Math.Clamp(byteInLine, 0, json.Length - start);
            return Encoding.UTF8.GetCharCount(json, start, length) + 1;
        }
    }
}
