using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Jinja;
using RlhfSharp.Text.Json;
using RlhfSharp.Text.Loading;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// Finds a model's chat template in its tokenizer folder, as transformers does:
/// <c>chat_template.jinja</c> when present, else <c>tokenizer_config.json</c>'s <c>chat_template</c>,
/// a string or a list of <c>{"name", "template"}</c> (the one named "default" unless another is
/// asked for); named templates may also be <c>additional_chat_templates/NAME.jinja</c>. The
/// special tokens of tokenizer_config.json become template variables.
/// </summary>
public static class ChatTemplateFiles
{
    public const string JinjaFileName = "chat_template.jinja";
    public const string AdditionalTemplatesFolder = "additional_chat_templates";

    /// <summary>The template, or null when the folder has no template (of that name, when one is asked for and there are none at all).</summary>
    /// <exception cref="TokenizerFormatException">tokenizer_config.json is malformed, or the named template is not there.</exception>
    /// <exception cref="JinjaTemplateException">The template's text is malformed.</exception>
    public static JinjaChatTemplate? Load(string directory, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string configPath = Path.Combine(directory, BpeTokenizer.TokenizerConfigFileName);
        var tokens = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        JsonElement? configTemplate = null;
        JsonDocument? doc = null;
        try
        {
            var f = new JsonFields(configPath);
            if (File.Exists(configPath))
            {
                doc = f.Parse(TokenizerFiles.ReadText(configPath, "a tokenizer_config.json"));
                f.RequireObject(doc.RootElement, "");
                ReadSpecialTokens(f, doc.RootElement, tokens);
                configTemplate = f.Optional(doc.RootElement, "", "chat_template");
            }
            bool isDefault = name is null || name == "default";
            string jinjaPath = Path.Combine(directory, JinjaFileName);
            if (isDefault && File.Exists(jinjaPath))
                return Make(ReadTemplateFile(jinjaPath), jinjaPath, tokens);
            if (!isDefault && File.Exists(Path.Combine(directory, AdditionalTemplatesFolder, name + ".jinja")))
            {
                string path = Path.Combine(directory, AdditionalTemplatesFolder, name + ".jinja");
                return Make(ReadTemplateFile(path), path, tokens);
            }
            if (configTemplate is not { } t) return isDefault ? null : throw f.Error("chat_template", $"no chat template named \"{name}\": the folder has no chat template");
            return FromConfigValue(f, t, name ?? "default", isDefault, tokens);
        }
        finally
        {
            doc?.Dispose();
        }
    }

    private static JinjaChatTemplate FromConfigValue(JsonFields f, JsonElement t, string name, bool isDefault, Dictionary<string, JsonNode?> tokens)
    {
        if (t.ValueKind == JsonValueKind.String)
        {
            if (!isDefault)
                throw f.Error("chat_template", $"no chat template named \"{name}\": chat_template is a single template (\"default\")");
            return Make(t.GetString()!, $"{f.File}: chat_template", tokens);
        }
        if (t.ValueKind != JsonValueKind.Array)
            throw f.Error("chat_template", $"expected a string or a list of {{\"name\": ..., \"template\": ...}} but found {JsonFields.Describe(t)}");
        var names = new List<string>();
        int i = 0;
        string? found = null;
        foreach (var item in t.EnumerateArray())
        {
            string path = JsonFields.Index("chat_template", i++);
            string itemName = f.RequiredString(item, path, "name");
            string text = f.RequiredString(item, path, "template");
            names.Add(itemName);
            if (itemName == name && found is null) found = text;
        }
        return found is not null
            ? Make(found, $"{f.File}: chat_template \"{name}\"", tokens)
            : throw f.Error("chat_template", $"no chat template named \"{name}\"; the file has: {string.Join(", ", names.Select(n => $"\"{n}\""))}");
    }

    private static string ReadTemplateFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, "(file)", $"cannot read the chat template: {e.Message}", e);
        }
    }

    private static JinjaChatTemplate Make(string source, string templateName, Dictionary<string, JsonNode?> tokens) =>
        new(JinjaTemplate.Parse(source, templateName), tokens);

    private static readonly string[] TokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    // transformers' special_tokens_map: the tokens that are set, and additional_special_tokens when given.
    private static void ReadSpecialTokens(JsonFields f, JsonElement root, Dictionary<string, JsonNode?> tokens)
    {
        foreach (var key in TokenKeys)
            if (TokenContent(f, f.Optional(root, "", key), key) is { } s) tokens[key] = s;
        if (f.Optional(root, "", "additional_special_tokens") is { } extra)
        {
            f.RequireArray(extra, "additional_special_tokens");
            var list = new JsonArray();
            int i = 0;
            foreach (var e in extra.EnumerateArray())
            {
                string path = JsonFields.Index("additional_special_tokens", i++);
                list.Add(TokenContent(f, e, path) ?? throw f.Error(path, "expected a token string or {\"content\": ...} but found null"));
            }
            tokens["additional_special_tokens"] = list;
        }
    }

    private static string? TokenContent(JsonFields f, JsonElement? v, string path) => v switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => f.RequiredString(o, path, "content"),
        { } other => throw f.Error(path, $"expected a string, {{\"content\": \"...\"}} or null but found {JsonFields.Describe(other)}"),
    };
}
