using System.Text;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// Turns a conversation into model text. Built in: <see cref="ChatMl"/> ("chatml"),
/// <see cref="Llama3"/> ("llama3") and <see cref="Plain"/> ("plain"); look them up with <see cref="Get"/>.
/// </summary>
/// <remarks>
/// A template renders into pieces that are prompt or assistant output, and markup or the
/// conversation's own text (contents, role names). <see cref="Render"/> turns them into text with
/// the spans of both; <see cref="RenderedChat.Encode(BpeTokenizer, SpecialTokensInContent)"/>
/// tokenizes that, cutting at assistant boundaries so the mask is exact, and by default reads
/// added tokens in the conversation's text as plain text, so only the template writes control
/// tokens. With the built-in templates the assistant boundaries fall at special tokens or line
/// breaks, where whole-text tokenization splits too.
/// </remarks>
public abstract class ChatTemplate
{
    public static ChatTemplate ChatMl { get; } = new ChatMlTemplate();

    public static ChatTemplate Llama3 { get; } = new Llama3Template();

    public static ChatTemplate Plain { get; } = new PlainTemplate();

    private static readonly ChatTemplate[] BuiltIn = [ChatMl, Llama3, Plain];

    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. BuiltIn.Select(t => t.Name)];

    /// <summary>A built-in template by name ("chatml", "llama3", "plain"; case-insensitive).</summary>
    public static ChatTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return BuiltIn.FirstOrDefault(t => string.Equals(t.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown chat template \"{name}\"; expected one of: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>The name <see cref="Get"/> finds this template by.</summary>
    public abstract string Name { get; }

    /// <summary>The marker that ends an assistant turn (part of the assistant span).</summary>
    public abstract string EndOfTurn { get; }

    /// <summary>The conversation as pieces (prompt or assistant, markup or content), in order; adjacent pieces of the same kind are joined.</summary>
    /// <param name="messages">The turns.</param>
    /// <param name="addGenerationPrompt">End with the header that asks the model for an assistant turn.</param>
    public IReadOnlyList<ChatPiece> RenderPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw new ArgumentException($"messages[{i}] is null.", nameof(messages));
            if (string.IsNullOrWhiteSpace(m.Role)) throw new ArgumentException($"messages[{i}].Role is empty.", nameof(messages));
            if (m.Content is null) throw new ArgumentException($"messages[{i}].Content is null.", nameof(messages));
        }
        var pieces = new List<ChatPiece>();
        AppendPieces(messages, addGenerationPrompt, pieces);
        return Coalesce(pieces);
    }

    /// <summary>
    /// The conversation as text, with the span of each assistant turn's content and end marker
    /// (adjacent assistant pieces form one span) and the spans of the conversation's own text.
    /// </summary>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        var text = new StringBuilder();
        var assistant = new List<TextSpan>();
        var content = new List<TextSpan>();
        bool previousAssistant = false;
        foreach (var piece in RenderPieces(messages, addGenerationPrompt))
        {
            var span = new TextSpan(text.Length, piece.Text.Length);
            if (piece.IsAssistant)
            {
                if (previousAssistant) assistant[^1] = assistant[^1] with { Length = assistant[^1].Length + span.Length };
                else assistant.Add(span);
            }
            if (piece.IsContent && span.Length > 0) content.Add(span);
            previousAssistant = piece.IsAssistant;
            text.Append(piece.Text);
        }
        return new RenderedChat(text.ToString(), assistant, content);
    }

    /// <summary>
    /// Renders and tokenizes the conversation with a per-token assistant mask: added tokens in
    /// the template's markup are recognised, those in the conversation's text are read as
    /// <paramref name="content"/> says (plain text by default); no BOS/EOS is added beyond what
    /// the template writes.
    /// </summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false,
        SpecialTokensInContent content = SpecialTokensInContent.Text)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Render(messages, addGenerationPrompt).Encode(tokenizer, content);
    }

    /// <summary>A piece of the template's own markup.</summary>
    protected static ChatPiece Markup(string text, bool assistant = false) => new(text, assistant, IsContent: false);

    /// <summary>A piece of the conversation's text (a message's content or role name).</summary>
    protected static ChatPiece Content(string text, bool assistant = false) => new(text, assistant, IsContent: true);

    /// <summary>Appends the template's pieces; arguments are already checked.</summary>
    protected abstract void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces);

    private static List<ChatPiece> Coalesce(List<ChatPiece> pieces)
    {
        var result = new List<ChatPiece>(pieces.Count);
        foreach (var p in pieces)
        {
            if (p.Text.Length == 0) continue;
            if (result.Count > 0 && result[^1].IsAssistant == p.IsAssistant && result[^1].IsContent == p.IsContent)
                result[^1] = result[^1] with { Text = result[^1].Text + p.Text };
            else result.Add(p);
        }
        return result;
    }
}
