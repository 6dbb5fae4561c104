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
            if (m.IsAssistant)
            {
                pieces.Add(new ChatPiece("<|im_start|>assistant\n", false));
                pieces.Add(new ChatPiece(m.Content + EndOfTurn, true));
                pieces.Add(new ChatPiece("\n", false));
            }
            else pieces.Add(new ChatPiece($"<|im_start|>{m.Role}\n{m.Content}{EndOfTurn}\n", false));
        }
        if (addGenerationPrompt) pieces.Add(new ChatPiece("<|im_start|>assistant\n", false));
    }
}
