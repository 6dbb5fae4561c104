using System.Text;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// Turns a conversation into model text. Built in: <see cref="ChatMl"/> ("chatml"),
/// <see cref="Llama3"/> ("llama3") and <see cref="Plain"/> ("plain"); look them up with <see cref="Get"/>.
/// </summary>
/// <remarks>
/// A template renders into pieces that are either prompt or assistant output.
/// <see cref="Encode"/> tokenizes the pieces one by one (adjacent pieces of the same kind
/// together) and concatenates the ids, so the assistant mask is exact by construction: no token
/// straddles a prompt/assistant boundary. With the built-in templates the boundaries fall at
/// special tokens or line breaks, where whole-text tokenization splits too.
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

    /// <summary>The conversation as prompt and assistant pieces, in order.</summary>
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

    /// <summary>The conversation as text, with the character span of each assistant turn's content and end marker.</summary>
    public RenderedChat Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        var text = new StringBuilder();
        var spans = new List<TextSpan>();
        foreach (var piece in RenderPieces(messages, addGenerationPrompt))
        {
            if (piece.IsAssistant) spans.Add(new TextSpan(text.Length, piece.Text.Length));
            text.Append(piece.Text);
        }
        return new RenderedChat(text.ToString(), spans);
    }

    /// <summary>
    /// Renders and tokenizes the conversation (special tokens in the markup recognised, no BOS/EOS
    /// added beyond what the template writes), with a per-token assistant mask.
    /// </summary>
    public ChatEncoding Encode(BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var piece in RenderPieces(messages, addGenerationPrompt))
        {
            var pieceIds = tokenizer.Encode(piece.Text);
            ids.AddRange(pieceIds);
            for (int i = 0; i < pieceIds.Length; i++) mask.Add(piece.IsAssistant);
        }
        return new ChatEncoding([.. ids], [.. mask]);
    }

    /// <summary>Appends the template's pieces; arguments are already checked.</summary>
    protected abstract void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces);

    private static List<ChatPiece> Coalesce(List<ChatPiece> pieces)
    {
        var result = new List<ChatPiece>(pieces.Count);
        foreach (var p in pieces)
        {
            if (p.Text.Length == 0 && !p.IsAssistant) continue;
            if (result.Count > 0 && result[^1].IsAssistant == p.IsAssistant && !p.IsAssistant)
                result[^1] = result[^1] with { Text = result[^1].Text + p.Text };
            else result.Add(p);
        }
        return result;
    }
}
