using System.Net;

namespace RlhfSharp.Serving;

/// <summary>How a <see cref="ChatServer"/> listens, batches and limits requests.</summary>
public sealed record ChatServerOptions
{
    /// <summary>The address to listen on; loopback unless asked otherwise.</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>Whether a non-loopback <see cref="Host"/> may be bound (see <see cref="ServerAccess.AllowRemote"/>).</summary>
    public bool AllowRemote { get; init; }

    /// <summary>
    /// The access token every request but <c>GET /health</c> must carry as <c>Authorization: Bearer</c>
    /// (an OpenAI client's API key); null: none, which only a loopback <see cref="Host"/> allows.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>TCP port; 0 picks a free one (see <see cref="ChatServer.Address"/>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>Most requests generated together in one <c>Sampler.Generate</c> call.</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>Largest request body in bytes; a larger one is answered with HTTP 413.</summary>
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    /// <summary>Response tokens for a request without max_tokens, capped by the context left after the prompt.</summary>
    public int DefaultMaxTokens { get; init; } = 256;

    /// <summary>Seeds the generators of sampled batches whose requests bring no seed.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where to write one line per generated batch (null: nowhere).</summary>
    public TextWriter? BatchLog { get; init; }

    /// <summary>Where to report failures the client only sees as HTTP 500 (null: nowhere).</summary>
    public TextWriter? ErrorLog { get; init; }

    /// <summary>An IP address, or "localhost" for the IPv4 loopback.</summary>
    public static bool TryParseHost(string? text, out IPAddress address)
    {
        if (string.Equals(text?.Trim(), "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }
        return IPAddress.TryParse(text?.Trim(), out address!);
    }

    internal ServerAccess Access => new()
    {
        Host = Host,
        AllowRemote = AllowRemote,
        Token = Token,
        OpenPaths = [ChatServer.HealthPath],
        TokenHint = "printed by `rlhf serve` at start, or the one given with --token or $" + ServerSettings.TokenVariable,
    };

    internal void Validate()
    {
        if (Port is < 0 or > IPEndPoint.MaxPort)
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"port must be in 0..{IPEndPoint.MaxPort}");
        if (MaxBatch < 1 || MaxRequestBytes < 1 || DefaultMaxTokens < 1)
            throw new ArgumentException("MaxBatch, MaxRequestBytes and DefaultMaxTokens must be positive");
    }
}
