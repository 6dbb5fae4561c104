namespace RlhfSharp.Text.Chat;

/// <summary>
/// Plain text for models without chat markup: <c>User: content\n</c>, <c>Assistant: content\n</c>,
/// <c>System: content\n</c> (other roles capitalised the same way). The generation prompt is
/// <c>Assistant:</c>; the space after the colon belongs to the assistant span, as GPT-2-style
/// vocabularies spell words with their leading space (" Hello"). The end marker is the newline.
/// </summary>
internal sealed class PlainTemplate : ChatTemplate
{
    public override string Name => "plain";

    public override string EndOfTurn => "\n";

    private static string Label(string role)
        => role.Length == 0 ? role : char.ToUpperInvariant(role[0]) + role[1..].ToLowerInvariant();

    protected override void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces)
    {
        foreach (var m in messages)
        {
            if (m.IsAssistant)
            {
                pieces.Add(Markup("Assistant:"));
                pieces.Add(Markup(" ", assistant: true));
                pieces.Add(Content(m.Content, assistant: true));
                pieces.Add(Markup(EndOfTurn, assistant: true));
            }
            else
            {
                pieces.Add(Content(Label(m.Role)));
                pieces.Add(Markup(": "));
                pieces.Add(Content(m.Content));
                pieces.Add(Markup(EndOfTurn));
            }
        }
        if (addGenerationPrompt) pieces.Add(Markup("Assistant:"));
    }
}
