using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// One pair a person compares: a prompt dialogue and two responses, <see cref="A"/> and
/// <see cref="B"/> in the order the source gave them. <see cref="Id"/> depends on the content only
/// and not on that order, so the same pair read from a pairs file, a preference file or a judge's
/// output has the same id.
/// </summary>
public sealed record PairItem
{
    private PairItem(string id, IReadOnlyList<ChatMessage> prompt, string a, string b)
    {
        Id = id;
        Prompt = prompt;
        A = a;
        B = b;
    }

    /// <summary>16 hex digits of SHA-256 over the prompt turns and the two responses in ordinal order.</summary>
    public string Id { get; }

    public IReadOnlyList<ChatMessage> Prompt { get; }

    public string A { get; }

    public string B { get; }

    public static PairItem Create(IReadOnlyList<ChatMessage> prompt, string a, string b)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new PairItem(ComputeId(prompt, a, b), prompt, a, b);
    }

    /// <summary>The response on <paramref name="side"/>.</summary>
    public string Text(Side side) => side == Side.A ? A : B;

    /// <summary>The id of a pair: the same for (a, b) and (b, a).</summary>
    public static string ComputeId(IReadOnlyList<ChatMessage> prompt, string x, string y)
    {
        var (first, second) = string.CompareOrdinal(x, y) <= 0 ? (x, y) : (y, x);
        var canonical = new JsonArray(PromptJson.Messages(prompt), first, second).ToJsonString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    /// <summary>
    /// Whether <paramref name="winner"/> is the first of the two responses in ordinal order: the
    /// order-free way to say which response of a pair was preferred, used to compare labels.
    /// </summary>
    public static bool IsFirstInOrder(string winner, string other) => string.CompareOrdinal(winner, other) < 0;
}

/// <summary>Which response of a <see cref="PairItem"/>: the source's first (A) or second (B).</summary>
public enum Side
{
    A,
    B,
}

/// <summary>The prompt as the preference format writes it.</summary>
public static class PromptJson
{
    /// <summary>One user turn as a plain string (as <c>rlhf label</c> writes it); anything else as a message list.</summary>
    public static JsonNode Node(IReadOnlyList<ChatMessage> prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0)
            return JsonValue.Create("");
        if (prompt.Count == 1 && prompt[0].Role == "user")
            return JsonValue.Create(prompt[0].Content);
        return Messages(prompt);
    }

    /// <summary>The turns as <c>[{"role", "content"}, ...]</c>.</summary>
    public static JsonArray Messages(IReadOnlyList<ChatMessage> prompt) =>
        new([.. prompt.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
}
