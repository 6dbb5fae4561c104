using System.Net;

namespace RlhfSharp.Serving;

/// <summary>
/// Who may talk to one of the program's servers (chat, labelling, dashboard); <see cref="AccessGuard"/>
/// enforces it on every request before the server sees it.
/// </summary>
public sealed record ServerAccess
{
    /// <summary>The address the server listens on; loopback unless asked otherwise.</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// Whether a <see cref="Host"/> that is not loopback may be bound at all: the user has to ask
    /// for it (<c>--allow_remote</c>), because then anyone who can reach the machine can reach the server.
    /// </summary>
    public bool AllowRemote { get; init; }

    /// <summary>The access token every request must carry; null: none (loopback only).</summary>
    public string? Token { get; init; }

    /// <summary>
    /// For servers with a browser page: the name of the cookie that keeps the token after the page
    /// was opened with <c>?token=</c> (the port is added, so that two servers on one machine keep
    /// theirs apart). Null: API only, the token travels as <c>Authorization: Bearer</c>.
    /// </summary>
    public string? Cookie { get; init; }

    /// <summary>Paths answered without the token (the Host and Origin checks still apply).</summary>
    public IReadOnlyCollection<string> OpenPaths { get; init; } = [];

    /// <summary>Where the user finds the token, for the 401 message: "printed by `rlhf serve` at start".</summary>
    public string TokenHint { get; init; } = "printed at start";

    internal void Validate()
    {
        if (!IPAddress.IsLoopback(Host) && !AllowRemote)
            throw new ServeException(RemoteRefusal(Host));
        if (Token is null && !IPAddress.IsLoopback(Host))
            throw new ArgumentException($"listening on {Host}, which is not loopback, needs an access token");
        if (Token is not null)
            AccessToken.Check(Token, "the server's options");
    }

    /// <summary>Why a non-loopback address is refused without <c>--allow_remote</c>, and how to ask for it.</summary>
    public static string RemoteRefusal(IPAddress host) =>
        $"host {host} is not a loopback address: the server would answer anyone who can reach this machine. " +
        "Use 127.0.0.1 (the default), or pass --allow_remote (allow_remote: true) to listen there on purpose.";

    /// <summary>The warning printed when a non-loopback address is bound on purpose.</summary>
    public static string RemoteWarning(IPAddress host) =>
        $"WARNING: listening on {host}, which is not loopback: anyone who can reach this machine can reach this server. " +
        "Every request must carry the access token; traffic is plain HTTP, so use it only on a network you trust or behind a TLS proxy.";
}
