using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// The Anthropic HH-RLHF text form (Bai et al. 2022): a dialogue written as
/// <c>"\n\nHuman: ...\n\nAssistant: ..."</c>. Chosen and rejected are whole dialogues that share
/// everything up to the last <c>"\n\nAssistant:"</c>; the text after it is the response.
/// </summary>
internal static class HhDialogue
{
    public const string HumanMarker = "\n\nHuman:";
    public const string AssistantMarker = "\n\nAssistant:";

    /// <summary>Splits at the last assistant marker: the dialogue before it and the response after it (one leading space dropped).</summary>
    public static (string Prompt, string Response)? Split(string dialogue)
    {
        int at = dialogue.LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        if (at < 0) return null;
        return (dialogue[..at], DropOneSpace(dialogue[(at + AssistantMarker.Length)..]));
    }

    /// <summary>
    /// The turns of a dialogue prefix: "Human:" turns become user messages and "Assistant:" turns
    /// assistant messages (one leading space dropped from each). Text before the first marker, if
    /// any, is taken as a user turn.
    /// </summary>
    public static List<ChatMessage> Turns(string prompt)
    {
        if (prompt.StartsWith("Human:", StringComparison.Ordinal) || prompt.StartsWith("Assistant:", StringComparison.Ordinal))
            prompt = "\n\n" + prompt;
        var turns = new List<ChatMessage>();
        int pos = 0;
        string? role = null;
        while (true)
        {
            var (next, nextRole, markerLength) = NextMarker(prompt, pos);
            var text = prompt[pos..next];
            if (role is not null) turns.Add(new ChatMessage(role, DropOneSpace(text)));
            else if (!string.IsNullOrWhiteSpace(text)) turns.Add(ChatMessage.User(text.Trim()));
            if (nextRole is null) return turns;
            role = nextRole;
            pos = next + markerLength;
        }
    }

    /// <summary>The first index where two strings differ.</summary>
    public static int FirstDifference(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
            if (a[i] != b[i]) return i;
        return n;
    }

    private static (int Index, string? Role, int MarkerLength) NextMarker(string text, int from)
    {
        int human = text.IndexOf(HumanMarker, from, StringComparison.Ordinal);
        int assistant = text.IndexOf(AssistantMarker, from, StringComparison.Ordinal);
        if (human < 0 && assistant < 0) return (text.Length, null, 0);
        if (assistant < 0 || (human >= 0 && human < assistant)) return (human, "user", HumanMarker.Length);
        return (assistant, "assistant", AssistantMarker.Length);
    }

    private static string DropOneSpace(string text) => text.StartsWith(' ') ? text[1..] : text;
}
