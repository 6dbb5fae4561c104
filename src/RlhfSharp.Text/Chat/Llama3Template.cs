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

    protected override void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces)
    {
        pieces.Add(Markup("<|begin_of_text|>"));
        foreach (var m in messages)
        {
            pieces.Add(Markup("<|start_header_id|>"));
            pieces.Add(m.IsAssistant ? Markup("assistant") : Content(m.Role));
            pieces.Add(Markup("<|end_header_id|>\n\n"));
            pieces.Add(Content(m.Content, m.IsAssistant));
            pieces.Add(Markup(EndOfTurn, m.IsAssistant));
        }
        if (addGenerationPrompt) pieces.Add(Markup("<|start_header_id|>assistant<|end_header_id|>\n\n"));
    }
}
