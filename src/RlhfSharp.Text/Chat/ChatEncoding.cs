namespace RlhfSharp.Text.Chat;

/// <summary>
/// A tokenized conversation. <c>AssistantMask[t]</c> is true when token t belongs to an assistant
/// turn's content or end marker; trainers compute the loss only there (prompt tokens masked).
/// </summary>
public sealed record ChatEncoding(int[] Ids, bool[] AssistantMask);
