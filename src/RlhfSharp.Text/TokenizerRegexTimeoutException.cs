using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfSharp.Text;

/// <summary>
/// A pre-tokenizer regex from a tokenizer file ran past its time limit on one piece of text:
/// the pattern backtracks catastrophically (nested quantifiers such as <c>(a+)+</c>) on such input.
/// The message names the file, the pattern's JSON path and the pattern, and how to fix it.
/// </summary>
public sealed class TokenizerRegexTimeoutException : Exception, IUserError
{
    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public TokenizerRegexTimeoutException(string file, string location, string pattern, TimeSpan timeout, int inputLength, Exception? inner = null)
        : base($"{file}: {location}: the regex {JsonSerializer.Serialize(pattern, QuoteOptions)} ran longer than {timeout.TotalSeconds:0.###} s "
            + $"on a {inputLength}-character piece of text and was stopped; the pattern backtracks catastrophically on such text. "
            + "Rewrite it without nested or overlapping quantifiers (e.g. (a+)+ or (\\s*\\s*)+), "
            + $"or raise the limit with the environment variable {TokenizerLoadOptions.RegexTimeoutVariable} (seconds) "
            + "or TokenizerLoadOptions.RegexTimeout.", inner)
    {
        File = file;
        Location = location;
        Pattern = pattern;
        Timeout = timeout;
    }

    /// <summary>The tokenizer file (or source name) the pattern came from.</summary>
    public string File { get; }

    /// <summary>The pattern's JSON path, e.g. <c>pre_tokenizer.pretokenizers[0].pattern.Regex</c>.</summary>
    public string Location { get; }

    /// <summary>The regex that timed out.</summary>
    public string Pattern { get; }

    /// <summary>The limit it ran past.</summary>
    public TimeSpan Timeout { get; }
}
