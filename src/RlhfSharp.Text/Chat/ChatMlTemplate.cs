namespace RlhfSharp.Text.Chat;

/// <summary>
/// ChatML (Qwen, many others): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per turn;
/// the generation prompt is <c>&lt;|im_start|&gt;assistant\n</c>.
/// </summary>
internal sealed class ChatMlTemplate : ChatTemplate
{
    public override string Name => "chatml";

    public override string EndOfTurn => "<|im_end|>";

    protected override void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces)
    {
        foreach (var m in messages)
        {
            pieces.Add(Markup("<|im_start|>"));
            if (m.IsAssistant)
            {
                pieces.Add(Markup("assistant\n"));
                pieces.Add(Content(m.Content, assistant: true));
                pieces.Add(Markup(EndOfTurn, assistant: true));
            }
            else
            {
                pieces.Add(Content(m.Role));
                pieces.Add(Markup("\n"));
                pieces.Add(Content(m.Content));
                pieces.Add(Markup(EndOfTurn));
            }
            pieces.Add(Markup("\n"));
        }
        if (addGenerationPrompt) pieces.Add(Markup("<|im_start|>assistant\n"));
    }
}
