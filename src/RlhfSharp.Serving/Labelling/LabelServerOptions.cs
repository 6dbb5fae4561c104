using System.Net;

namespace RlhfSharp.Serving.Labelling;

/// <summary>How a <see cref="LabelServer"/> listens and what it requires of requests.</summary>
public sealed record LabelServerOptions
{
    /// <summary>The address to listen on; loopback unless asked otherwise.</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>Whether a non-loopback <see cref="Host"/> may be bound (see <see cref="ServerAccess.AllowRemote"/>).</summary>
    public bool AllowRemote { get; init; }

    /// <summary>TCP port; 0 picks a free one (see <see cref="LabelServer.Address"/>).</summary>
    public int Port { get; init; } = 8700;

    /// <summary>Largest request body in bytes; a larger one is answered with HTTP 413.</summary>
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    /// <summary>The access token every request must carry; null: none (loopback only).</summary>
    public string? Token { get; init; }

    /// <summary>Where to report failures the client only sees as HTTP 500 (null: nowhere).</summary>
    public TextWriter? ErrorLog { get; init; }

    internal void Validate()
    {
        if (Port is < 0 or > IPEndPoint.MaxPort)
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"port must be in 0..{IPEndPoint.MaxPort}");
        if (MaxRequestBytes < 1)
            throw new ArgumentException("MaxRequestBytes must be positive");
        if (Token is null && !IPAddress.IsLoopback(Host))
            throw new ArgumentException($"listening on {Host}, which is not loopback, needs an access token");
        if (Token is { Length: < 16 })
            throw new ArgumentException("the access token must be at least 16 characters");
    }
}
