using System.Net;

namespace RlhfSharp.Serving;

/// <summary>How a <see cref="RewardServer"/> listens and limits requests.</summary>
public sealed record RewardServerOptions
{
    /// <summary>The address to listen on; loopback unless asked otherwise.</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>Whether a non-loopback <see cref="Host"/> may be bound (see <see cref="ServerAccess.AllowRemote"/>).</summary>
    public bool AllowRemote { get; init; }

    /// <summary>The access token every request but <c>GET /health</c> must carry as <c>Authorization: Bearer</c>; null: none (loopback only).</summary>
    public string? Token { get; init; }

    /// <summary>TCP port; 0 picks a free one (see <see cref="RewardServer.Address"/>).</summary>
    public int Port { get; init; } = 5000;

    /// <summary>Largest request body in bytes; a larger one is answered with HTTP 413.</summary>
    public int MaxRequestBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Most queries one request may hold; more is a 400.</summary>
    public int MaxQueries { get; init; } = 1024;

    /// <summary>Where to report failures the client only sees as HTTP 500 (null: nowhere).</summary>
    public TextWriter? ErrorLog { get; init; }

    internal ServerAccess Access => new()
    {
        Host = Host,
        AllowRemote = AllowRemote,
        Token = Token,
        OpenPaths = [RewardServer.HealthPath],
        TokenHint = "printed by `rlhf serve-rm` at start, or the one given with --token or $" + ServerSettings.TokenVariable,
    };

    internal void Validate()
    {
        if (Port is < 0 or > IPEndPoint.MaxPort)
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"port must be in 0..{IPEndPoint.MaxPort}");
        if (MaxRequestBytes < 1 || MaxQueries < 1)
            throw new ArgumentException("MaxRequestBytes and MaxQueries must be positive");
    }
}
