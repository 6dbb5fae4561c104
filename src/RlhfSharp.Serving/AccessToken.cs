using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Serving.Labelling;

/// <summary>The labelling server's access token: random, or kept in an environment variable so that it survives restarts.</summary>
public static class AccessToken
{
    public const int MinLength = 16;

    /// <summary>The token in <paramref name="environmentVariable"/> when it is set, else 32 random bytes in base64url.</summary>
    public static string Resolve(string? environmentVariable)
    {
        if (environmentVariable is not null && Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } fromEnv)
        {
            if (fromEnv.Length < MinLength || fromEnv.Any(c => c is < '!' or > '~'))
                throw new ServeException($"the access token in ${environmentVariable} must be at least {MinLength} printable ASCII characters without spaces (access_token_env)");
            return fromEnv;
        }
        return Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Compares in time that does not depend on where the two differ.</summary>
    public static bool Matches(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));
}
