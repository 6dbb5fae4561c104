namespace RlhfSharp.Text.Chat;

/// <summary>A stretch of rendered chat text, as a template writes it.</summary>
/// <param name="Text">The text.</param>
/// <param name="IsAssistant">True for an assistant turn's content and its end-of-turn marker: what a trainer learns to produce.</param>
/// <param name="IsContent">
/// True for text that comes from the conversation (a message's content or role name), false for
/// the template's own markup. Only markup may turn into control tokens, see <see cref="SpecialTokensInContent"/>.
/// </param>
public sealed record ChatPiece(string Text, bool IsAssistant, bool IsContent = false);
