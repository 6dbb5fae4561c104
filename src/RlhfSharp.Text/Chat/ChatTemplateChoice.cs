using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// The chat template a command uses, chosen in one place (<see cref="Resolve"/>) so that every
/// command that renders conversations (<c>rlhf tokenize --messages</c>, <c>rlhf generate --chat</c>,
/// <c>rlhf chat</c>) picks it the same way. Today the choice is one of the built-in templates
/// (<see cref="ChatTemplate.Names"/>); a template read from the tokenizer's own
/// <c>tokenizer_config.json</c> is meant to be added here.
/// </summary>
public sealed class ChatTemplateChoice
{
    /// <summary>The template used when none is named.</summary>
    public const string DefaultName = "chatml";

    private ChatTemplateChoice(ChatTemplate template, string source)
    {
        Template = template;
        Source = source;
    }

    /// <summary>The template that renders conversations.</summary>
    public ChatTemplate Template { get; }

    /// <summary>Where the template came from, for messages: "built-in template 'chatml'".</summary>
    public string Source { get; }

    /// <summary>The text that ends an assistant turn (a stop token for generation).</summary>
    public string EndOfTurn => Template.EndOfTurn;

    /// <summary>
    /// The template for a tokenizer folder: <paramref name="explicitName"/> when given (a built-in
    /// name, case-insensitive), else <see cref="DefaultName"/>.
    /// </summary>
    /// <param name="tokenizerDir">The tokenizer folder (its own template is to be read from here).</param>
    /// <param name="explicitName">The name the user gave (<c>--chat_template</c>), or null.</param>
    /// <exception cref="ChatTemplateException">The name is not a template.</exception>
    public static ChatTemplateChoice Resolve(string? tokenizerDir, string? explicitName)
    {
        _ = tokenizerDir; // the tokenizer's own chat_template will be read from here
        string name = string.IsNullOrWhiteSpace(explicitName) ? DefaultName : explicitName.Trim();
        var template = ChatTemplate.Names.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? ChatTemplate.Get(name)
            : throw new ChatTemplateException(
                $"chat template '{name}' is unknown; use one of the built-in templates: {string.Join(", ", ChatTemplate.Names)}.");
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
        if (tools is { Count: > 0 })
        {
            throw new ChatTemplateException(
                $"the {Source} cannot render tools ({tools.Count} given); leave \"tools\" out, or use a template that writes them (the tokenizer's own chat_template).");
        }
        return Template.Render(messages, addGenerationPrompt);
    }

    /// <summary>As <see cref="Render"/>, tokenized; message contents stay text (see <see cref="SpecialTokensInContent.Text"/>).</summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<JsonNode?>? tools = null, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Render(messages, tools, addGenerationPrompt).Encode(tokenizer);
    }
}
