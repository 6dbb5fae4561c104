using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// The conversation of <c>rlhf chat</c>: an optional system prompt and the turns so far. It is kept
/// within the model's length by dropping the oldest turns; the system prompt always stays.
/// </summary>
internal sealed class ChatHistory
{
    private readonly List<(string User, string Assistant)> _turns = [];

    /// <summary>The system prompt, or null for none.</summary>
    public string? System { get; set; }

    /// <summary>Turns held (a user message with the reply to it).</summary>
    public int Turns => _turns.Count;

    /// <summary>Forgets every turn; the system prompt stays.</summary>
    public void Reset() => _turns.Clear();

    /// <summary>Keeps a user message with its reply.</summary>
    public void Add(string user, string assistant) => _turns.Add((user, assistant));

    /// <summary>The conversation to send: the system prompt, the turns, then <paramref name="user"/>.</summary>
    public List<ChatMessage> With(string user) => Trimmed(user, 0);

    /// <summary>
    /// Drops the oldest turns until the conversation with <paramref name="user"/> encodes to at most
    /// <paramref name="budget"/> tokens; returns how many were dropped, or -1 when even the system
    /// prompt and <paramref name="user"/> alone are over (then nothing is dropped).
    /// </summary>
    public int Fit(string user, Func<IReadOnlyList<ChatMessage>, int> tokens, int budget)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        int drop = 0;
        while (tokens(Trimmed(user, drop)) > budget)
        {
            if (drop == _turns.Count)
                return -1;
            drop++;
        }
        _turns.RemoveRange(0, drop);
        return drop;
    }

    private List<ChatMessage> Trimmed(string user, int drop)
    {
        var kept = _turns.Skip(drop).ToList();
        var messages = new List<ChatMessage>();
        if (System is not null)
            messages.Add(ChatMessage.System(System));
        foreach (var (u, a) in kept)
        {
            messages.Add(ChatMessage.User(u));
            messages.Add(ChatMessage.Assistant(a));
        }
        messages.Add(ChatMessage.User(user));
        return messages;
    }
}
