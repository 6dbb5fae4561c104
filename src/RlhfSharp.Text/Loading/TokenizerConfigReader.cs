using System.Text.Json;
using RlhfSharp.Text.Json;

namespace RlhfSharp.Text.Loading;

/// <summary>Reads the special tokens and BOS/EOS flags of a tokenizer_config.json.</summary>
internal static class TokenizerConfigReader
{
    public static TokenizerConfig Read(string json, string file)
    {
        var f = new JsonFields(file);
        using var doc = f.Parse(json);
        var root = doc.RootElement;
        f.RequireObject(root, "");
        bool? Flag(string key) => f.Optional(root, "", key) is null ? null : f.OptionalBool(root, "", key, false);
        int? maxLength = null;
        if (f.Optional(root, "", "model_max_length") is { ValueKind: JsonValueKind.Number } m
            && m.TryGetDouble(out double d) && d is >= 1 and <= int.MaxValue)
            maxLength = (int)d; // configs without a limit store a huge float here
        return new TokenizerConfig(
            Token(f, root, "bos_token"), Token(f, root, "eos_token"), Token(f, root, "pad_token"), Token(f, root, "unk_token"),
            Flag("add_bos_token"), Flag("add_eos_token"), maxLength);
    }

    /// <summary>A special token given as a string, as {"content": ...}, or null.</summary>
    private static string? Token(JsonFields f, JsonElement root, string key)
    {
        if (f.Optional(root, "", key) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!.Length == 0 ? null : v.GetString();
        if (v.ValueKind == JsonValueKind.Object)
        {
            // {"content": ""} means no token, as "" does: there is no empty token to add.
            string content = f.RequiredString(v, key, "content");
            return content.Length == 0 ? null : content;
        }
        throw f.Error(key, $"found {JsonFields.Describe(v)}; expected a string, {{\"content\": \"...\"}} or null");
    }
}
