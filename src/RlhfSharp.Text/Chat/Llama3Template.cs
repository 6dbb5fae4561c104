namespace RlhfSharp.Text.Chat;

/// <summary>
/// Llama 3: <c>&lt;|begin_of_text|&gt;</c>, then per turn
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>; the
/// generation prompt is the assistant header. Content is written as given (not trimmed).
/// </summary>
internal sealed class Llama3Template : ChatTemplate
{
    public override string Name => "llama3";

    public override string EndOfTurn => "<|eot_id|>";

    private static string Header(string role) => $"<|start_header_id|>{role}<|end_header_id|>\n\n";

    protected override void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces)
    {
        pieces.Add(new ChatPiece("<|begin_of_text|>", false));
        foreach (var m in messages)
        {
            if (m.IsAssistant)
            {
                pieces.Add(new ChatPiece(Header("assistant"), false));
                pieces.Add(new ChatPiece(m.Content + EndOfTurn, true));
            }
            else pieces.Add(new ChatPiece(Header(m.Role) + m.Content + EndOfTurn, false));
        }
        if (addGenerationPrompt) pieces.Add(new ChatPiece(Header("assistant"), false));
    }
}
