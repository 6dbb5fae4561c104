using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfSharp.Text.Json;

/// <summary>
/// Typed access to JSON values that reports problems as <see cref="TokenizerFormatException"/>
/// with the file name and the JSON path, instead of KeyNotFound or InvalidOperation errors.
/// </summary>
internal readonly struct JsonFields
{
    public JsonFields(string file) => File = file;

    public string File { get; }

    public TokenizerFormatException Error(string path, string problem) => new(File, path, problem);

    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public static string Index(string path, int i) => $"{path}[{i}]";

    public JsonDocument Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(File, $"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}",
                $"invalid JSON ({e.Message}); expected a well-formed JSON document", e);
        }
        // The parser accepts a lone surrogate escape ("\ud800"); reading that string would fail later.
        if (json.Contains("\\u", StringComparison.Ordinal) && JsonUnicode.Find(System.Text.Encoding.UTF8.GetBytes(json)) is { } bad)
        {
            var field = JsonUnicode.PathOfInvalid(document.RootElement);
            document.Dispose();
            throw new TokenizerFormatException(File, field is null ? $"line {bad.Line}" : $"line {bad.Line}, {field}", bad.Reason);
        }
        return document;
    }

    public void RequireObject(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Error(path.Length == 0 ? "(root)" : path, $"expected a JSON object but found {Describe(e)}");
    }

    public JsonElement Required(JsonElement obj, string path, string key)
    {
        RequireObject(obj, path);
        if (!obj.TryGetProperty(key, out var v))
            throw Error(Child(path, key), "required key is missing");
        return v;
    }

    /// <summary>The value at <paramref name="key"/>, or null when the key is absent or JSON null.</summary>
    public JsonElement? Optional(JsonElement obj, string path, string key)
    {
        RequireObject(obj, path);
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v;
    }

    public string RequiredString(JsonElement obj, string path, string key)
        => AsString(Required(obj, path, key), Child(path, key));

    public string? OptionalString(JsonElement obj, string path, string key)
    {
        var v = Optional(obj, path, key);
        return v is null ? null : AsString(v.Value, Child(path, key));
    }

    public bool OptionalBool(JsonElement obj, string path, string key, bool fallback)
    {
        var v = Optional(obj, path, key);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(Child(path, key), $"expected true or false but found {Describe(v.Value)}"),
        };
    }

    public int RequiredInt(JsonElement obj, string path, string key) => AsInt(Required(obj, path, key), Child(path, key));

    public string AsString(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.String)
            throw Error(path, $"expected a string but found {Describe(e)}");
        return e.GetString()!;
    }

    /// <summary>Ids above this are refused: they would only make id tables huge (real vocabularies stay far below).</summary>
    public const int MaxId = (1 << 24) - 1;

    public int AsInt(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v) || v < 0 || v > MaxId)
            throw Error(path, $"expected an integer id from 0 to {MaxId} but found {Describe(e)}");
        return v;
    }

    public JsonElement RequireArray(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Array)
            throw Error(path, $"expected a JSON array but found {Describe(e)}");
        return e;
    }

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {Quote(e.GetString()!)}",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The whole string as a JSON literal, however long.</summary>
    public static string QuoteWhole(string s) => JsonSerializer.Serialize(s, QuoteOptions);

    /// <summary>A string as a readable JSON literal, cut after 60 characters.</summary>
    public static string Quote(string s) => JsonSerializer.Serialize(s.Length > 60 ? s[..60] + "…" : s, QuoteOptions);
}
