using System.Net;

namespace RlhfSharp.Serving;

/// <summary>
/// The config keys every server command shares (<c>host</c>, <c>allow_remote</c>, <c>token</c>):
/// their checks, and the access token a command uses and how it tells the user.
/// </summary>
public static class ServerSettings
{
    /// <summary>The environment variable that gives <c>rlhf serve</c> and <c>rlhf dashboard</c> their access token when the token key is unset.</summary>
    public const string TokenVariable = "RLHFSHARP_TOKEN";

    /// <summary>What is wrong with the host, allow_remote and token keys, one message each.</summary>
    public static IEnumerable<string> Errors(string host, bool allowRemote, string? token)
    {
        if (!ChatServerOptions.TryParseHost(host, out var address))
            yield return $"host must be an IP address or localhost, got '{host}'";
        else if (!IPAddress.IsLoopback(address) && !allowRemote)
            yield return ServerAccess.RemoteRefusal(address);
        if (token is not null && (token.Length < AccessToken.MinLength || token.Any(c => c is < '!' or > '~')))
            yield return $"token must be at least {AccessToken.MinLength} printable ASCII characters without spaces, got {token.Length} characters";
    }

    /// <summary>
    /// The token from the <c>token</c> key, else from <paramref name="environmentVariable"/>, else a
    /// random one; <c>Given</c> says whether the user chose it (then it is not printed).
    /// </summary>
    public static (string Token, bool Given) ResolveToken(string? token, string environmentVariable)
    {
        if (token is not null)
        {
            AccessToken.Check(token, "token");
            return (token, true);
        }
        if (AccessToken.FromEnvironment(environmentVariable, environmentVariable) is { } fromEnv)
            return (fromEnv, true);
        return (AccessToken.Random(), false);
    }

    /// <summary>
    /// Prints the warning of a non-loopback host to <paramref name="error"/>, and to
    /// <paramref name="output"/> the token (when random) or where it came from: "access token: ..."
    /// is the line scripts read.
    /// </summary>
    public static void Announce(TextWriter output, TextWriter error, IPAddress host, string token, bool given, string environmentVariable)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(host);
        if (!IPAddress.IsLoopback(host))
        {
            error.WriteLine(ServerAccess.RemoteWarning(host));
            error.Flush();
        }
        output.WriteLine(given
            ? $"access token: from --token or ${environmentVariable} (not printed)"
            : $"access token: {token}");
    }
}
