namespace RlhfSharp.Text.Chat;

/// <summary>A rendered conversation and where each assistant turn's content (with its end marker) lies in it.</summary>
public sealed record RenderedChat(string Text, IReadOnlyList<TextSpan> AssistantSpans);
