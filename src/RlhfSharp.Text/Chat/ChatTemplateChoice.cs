using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// The chat template a command or trainer uses, chosen in one place (<see cref="Resolve"/>) so that
/// every place that renders conversations (<c>rlhf tokenize --messages</c>, <c>rlhf generate --chat</c>,
/// <c>rlhf chat</c>, <c>rlhf serve</c>, the trainers) picks it the same way: by default the model's
/// own template (<see cref="JinjaChatTemplate"/>, from its tokenizer folder) when it has one, since
/// a chat model trained or prompted in any other format is silently mis-trained; else ChatML.
/// </summary>
public sealed class ChatTemplateChoice
{
    /// <summary>The tokenizer's own template when it has one, else <see cref="FallbackName"/>.</summary>
    public const string DefaultName = "auto";

    /// <summary>The tokenizer's own template; an error when it has none. "tokenizer:NAME" picks a named one ("tool_use").</summary>
    public const string TokenizerName = "tokenizer";

    /// <summary>The built-in template <see cref="DefaultName"/> falls back to.</summary>
    public const string FallbackName = "chatml";

    private ChatTemplateChoice(ChatTemplate template, string source)
    {
        Template = template;
        Source = source;
    }

    /// <summary>Every name <see cref="Resolve"/> takes, for help texts.</summary>
    public static IReadOnlyList<string> Names { get; } = [DefaultName, TokenizerName, .. ChatTemplate.Names];

    /// <summary>One line for help texts and config docs.</summary>
    public static string Help { get; } =
        $"{DefaultName} (the tokenizer's own chat_template when it has one, else {FallbackName}), {TokenizerName} (its own, required; {TokenizerName}:NAME for a named one), or a built-in template: {string.Join(", ", ChatTemplate.Names)}";

    /// <summary>The template that renders conversations.</summary>
    public ChatTemplate Template { get; }

    /// <summary>Where the template came from, for messages: "built-in template 'chatml'".</summary>
    public string Source { get; }

    /// <summary>The text that ends an assistant turn (a stop token for generation).</summary>
    public string EndOfTurn => Template.EndOfTurn;

    /// <summary>True when the template renders whole JSON messages (tool calls, reasoning, names), not only role and content.</summary>
    public bool RendersAnyMessage => Template is JinjaChatTemplate;

    /// <summary>
    /// The template for a tokenizer folder: <paramref name="explicitName"/> when given (see
    /// <see cref="Names"/>; built-in names are case-insensitive), else <see cref="DefaultName"/>.
    /// </summary>
    /// <param name="tokenizerDir">The tokenizer folder its own template is read from (tokenizer_config.json, chat_template.jinja), or null.</param>
    /// <param name="explicitName">The name the user gave (<c>--chat_template</c>, config key <c>chat_template</c>), or null.</param>
    /// <exception cref="ChatTemplateException">The name is not a template, or the tokenizer has none when one is required.</exception>
    /// <exception cref="TokenizerFormatException">The tokenizer's config is malformed.</exception>
    /// <exception cref="Jinja.JinjaTemplateException">The tokenizer's template text is malformed.</exception>
    public static ChatTemplateChoice Resolve(string? tokenizerDir, string? explicitName)
    {
        string name = string.IsNullOrWhiteSpace(explicitName) ? DefaultName : explicitName.Trim();
        if (string.Equals(name, DefaultName, StringComparison.OrdinalIgnoreCase))
        {
            var own = tokenizerDir is null ? null : JinjaChatTemplate.FromTokenizerDirectory(tokenizerDir);
            return own is not null
                ? new ChatTemplateChoice(own, $"chat template of the tokenizer in {tokenizerDir}")
                : new ChatTemplateChoice(ChatTemplate.Get(FallbackName), $"built-in template '{FallbackName}'");
        }
        if (string.Equals(name, TokenizerName, StringComparison.OrdinalIgnoreCase)
            || name.StartsWith(TokenizerName + ":", StringComparison.OrdinalIgnoreCase))
        {
            string? named = name.Length > TokenizerName.Length + 1 ? name[(TokenizerName.Length + 1)..] : null;
            if (tokenizerDir is null)
                throw new ChatTemplateException($"chat template '{name}' needs a tokenizer folder to read the template from; give one, or name a built-in template: {string.Join(", ", ChatTemplate.Names)}.");
            var own = JinjaChatTemplate.FromTokenizerDirectory(tokenizerDir, named)
                ?? throw new ChatTemplateException(
                    $"chat template '{name}': {tokenizerDir} has no chat template (neither tokenizer_config.json's \"chat_template\" nor chat_template.jinja); name a built-in template instead: {string.Join(", ", ChatTemplate.Names)}.");
            return new ChatTemplateChoice(own, $"chat template{(named is null ? "" : $" '{named}'")} of the tokenizer in {tokenizerDir}");
        }
        var template = ChatTemplate.Names.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? ChatTemplate.Get(name)
            : throw new ChatTemplateException($"chat template '{name}' is unknown; use {Help}.");
        return new ChatTemplateChoice(template, $"built-in template '{template.Name}'");
    }

    /// <summary>
    /// Renders <paramref name="messages"/> (and <paramref name="tools"/>, the function schemas a
    /// model may call) as text with its assistant and content spans.
    /// </summary>
    /// <exception cref="ChatTemplateException">Tools were given to a template that cannot render them.</exception>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonNode?>? tools = null, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (Template is JinjaChatTemplate jinja)
            return jinja.Render([.. messages.Select(ToJson)], ToolArray(tools), addGenerationPrompt);
        RefuseTools(tools);
        return Template.Render(messages, addGenerationPrompt);
    }

    /// <summary>
    /// Renders messages given as JSON objects: all their fields reach the tokenizer's own template;
    /// a built-in template takes only string "role" and "content".
    /// </summary>
    /// <exception cref="ChatTemplateException">A message has fields a built-in template cannot render, or tools were given to one.</exception>
    public RenderedChat Render(IReadOnlyList<JsonNode> messages, IReadOnlyList<JsonNode?>? tools, bool addGenerationPrompt)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (Template is JinjaChatTemplate jinja)
            return jinja.Render(messages, ToolArray(tools), addGenerationPrompt);
        RefuseTools(tools);
        var plain = new List<ChatMessage>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject m)
                throw new ChatTemplateException($"messages[{i}] is not a JSON object; a message is {{\"role\": \"...\", \"content\": \"...\"}}.");
            foreach (var (key, _) in m)
            {
                if (key is not ("role" or "content"))
                    throw new ChatTemplateException($"messages[{i}].{key}: the {Source} renders only \"role\" and \"content\"; leave \"{key}\" out, or use a tokenizer with its own chat_template.");
            }
            string? role = String(m["role"]), content = String(m["content"]);
            if (role is null || content is null)
                throw new ChatTemplateException($"messages[{i}]: the {Source} needs \"role\" and \"content\" strings.");
            plain.Add(new ChatMessage(role, content));
        }
        return Template.Render(plain, addGenerationPrompt);
    }

    /// <summary>As <see cref="Render(IReadOnlyList{ChatMessage}, IReadOnlyList{JsonNode?}?, bool)"/>, tokenized; message contents stay text (see <see cref="SpecialTokensInContent.Text"/>).</summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonNode?>? tools = null, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Render(messages, tools, addGenerationPrompt).Encode(tokenizer);
    }

    private void RefuseTools(IReadOnlyList<JsonNode?>? tools)
    {
        if (tools is { Count: > 0 })
        {
            throw new ChatTemplateException(
                $"the {Source} cannot render tools ({tools.Count} given); leave \"tools\" out, or use a template that writes them (the tokenizer's own chat_template).");
        }
    }

    private static JsonArray? ToolArray(IReadOnlyList<JsonNode?>? tools) =>
        tools is { Count: > 0 } ? new JsonArray([.. tools.Select(t => t?.DeepClone())]) : null;

    private static JsonNode ToJson(ChatMessage m) => new JsonObject { ["role"] = m.Role, ["content"] = m.Content };

    private static string? String(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;
}
