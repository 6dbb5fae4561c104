namespace RlhfSharp.Text.Chat;

/// <summary>A stretch of rendered chat text: prompt (template markup, system and user turns) or assistant output.</summary>
/// <param name="Text">The text.</param>
/// <param name="IsAssistant">True for an assistant turn's content and its end-of-turn marker: what a trainer learns to produce.</param>
public sealed record ChatPiece(string Text, bool IsAssistant);
