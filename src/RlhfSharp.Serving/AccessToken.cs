using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Serving;

/// <summary>
/// A server's access token: given by the user (a flag or an environment variable, so that it stays
/// the same across restarts) or random, and compared in time that does not depend on the guess.
/// </summary>
public static class AccessToken
{
    public const int MinLength = 16;

    /// <summary>The token in <paramref name="environmentVariable"/> when it is set, else a random one (<see cref="Random"/>).</summary>
    public static string Resolve(string? environmentVariable) =>
        FromEnvironment(environmentVariable, environmentVariable + " (access_token_env)") ?? Random();

    /// <summary>
    /// The token in <paramref name="environmentVariable"/> when it is set and not empty, checked
    /// (<see cref="Check"/>) and named in errors as <paramref name="where"/>; else null.
    /// </summary>
    public static string? FromEnvironment(string? environmentVariable, string where)
    {
        if (environmentVariable is null || Environment.GetEnvironmentVariable(environmentVariable) is not { Length: > 0 } fromEnv)
            return null;
        Check(fromEnv, "$" + where);
        return fromEnv;
    }

    /// <summary>Throws a <see cref="ServeException"/> naming <paramref name="where"/> unless the token is long and plain enough.</summary>
    public static void Check(string token, string where)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length < MinLength || token.Any(c => c is < '!' or > '~'))
            throw new ServeException($"the access token in {where} must be at least {MinLength} printable ASCII characters without spaces, got {token.Length} characters");
    }

    /// <summary>32 random bytes in base64url (43 characters).</summary>
    public static string Random() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Compares SHA-256 digests, which always have the same length, in constant time: neither where
    /// the guess goes wrong nor how long it is shows in the time taken.
    /// </summary>
    public static bool Matches(string expected, string? given)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (given is null)
            return false;
        Span<byte> a = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> b = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(given), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}
