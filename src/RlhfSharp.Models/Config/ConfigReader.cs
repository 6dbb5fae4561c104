using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models.Config;

/// <summary>Typed access to config.json keys with errors that name the file, the key and the expected type.</summary>
internal sealed class ConfigReader(JsonObject obj, string path)
{
    public string String(string key) => OptionalString(key) ?? throw Missing(key, "a string");

    public int Int(string key) => OptionalInt(key) ?? throw Missing(key, "an integer");

    public string? OptionalString(string key) => Get(key) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw Wrong(key, "a string", other),
    };

    public int? OptionalInt(string key)
    {
        var n = Get(key);
        if (n is null)
            return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue<int>(out var i))
                return i;
            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue)
                return (int)d;
        }
        // Some configs list several EOS ids; the first is the one generation stops on by default.
        if (n is JsonArray arr && arr.Count > 0 && arr[0] is JsonValue first && first.TryGetValue<int>(out var firstId))
            return firstId;
        throw Wrong(key, "an integer", n);
    }

    public float? OptionalFloat(string key)
    {
        var n = Get(key);
        if (n is null)
            return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d))
            return (float)d;
        throw Wrong(key, "a number", n);
    }

    public bool? OptionalBool(string key)
    {
        var n = Get(key);
        if (n is null)
            return null;
        if (n is JsonValue v && v.TryGetValue<bool>(out var b))
            return b;
        throw Wrong(key, "true or false", n);
    }

    public string[]? OptionalStringArray(string key)
    {
        var n = Get(key);
        if (n is null)
            return null;
        if (n is JsonArray arr && arr.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String))
            return arr.Select(x => x!.GetValue<string>()).ToArray();
        throw Wrong(key, "an array of strings", n);
    }

    private JsonNode? Get(string key) => obj.TryGetPropertyValue(key, out var n) ? n : null;

    private ModelConfigException Missing(string key, string what) => new(path, $"missing key '{key}' ({what})");

    private ModelConfigException Wrong(string key, string what, JsonNode n) => new(path, $"key '{key}' must be {what}, got {n.ToJsonString()}");
}
