using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Serving;

/// <summary>
/// The Content-Security-Policy of a self-contained page: only its own inline scripts and styles run
/// (allowed by their SHA-256, so a script that reached the page some other way does not), it
/// connects only to the server that sent it, and it loads nothing else and may not be framed.
/// </summary>
public static partial class PagePolicy
{
    /// <summary>The policy for <paramref name="html"/>, hashing each of its &lt;script&gt; and &lt;style&gt; blocks.</summary>
    public static string For(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        string scripts = Hashes(ScriptBlock().Matches(html));
        string styles = Hashes(StyleBlock().Matches(html));
        return $"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; img-src 'self' data:; " +
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    private static string Hashes(MatchCollection blocks) => blocks.Count == 0
        ? "'none'"
        : string.Join(' ', blocks.Select(b => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(b.Groups[1].Value)))}'").Distinct());

    [GeneratedRegex(@"<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptBlock();

    [GeneratedRegex(@"<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleBlock();
}
