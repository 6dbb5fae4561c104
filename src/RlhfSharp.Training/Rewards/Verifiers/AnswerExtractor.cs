using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Rewards.Verifiers;

/// <summary>
/// Reads the final answer out of a response, the way a verifiable-reward recipe names it
/// (<c>accuracy_extractor</c>). Each returns null when the response holds no answer of its kind.
/// </summary>
public sealed partial class AnswerExtractor
{
    /// <summary>The extractor names <c>accuracy_extractor</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["last_number", "boxed", "regex", "text"];

    private readonly Func<string, string?> _extract;

    private AnswerExtractor(string name, Func<string, string?> extract)
    {
        Name = name;
        _extract = extract;
    }

    public string Name { get; }

    /// <summary>The answer in <paramref name="response"/>, or null when it holds none.</summary>
    public string? Extract(string response) => _extract(response ?? "");

    /// <summary>
    /// The extractor called <paramref name="name"/>; <paramref name="pattern"/> is the regex
    /// extractor's pattern (its first capture group is the answer).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, or a regex pattern that does not parse or has no capture group.</exception>
    public static AnswerExtractor Create(string name, string? pattern = null) => name switch
    {
        "last_number" => new(name, LastNumber),
        "boxed" => new(name, LastBoxed),
        "text" => new(name, r => r.Trim()),
        "regex" => FromPattern(pattern),
        _ => throw new ArgumentException($"unknown extractor '{name}'; valid: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// The last integer or decimal in the text ("-3", "2.5", "+4"). A minus sign counts only where it
    /// cannot be a subtraction ("7-5" holds 7 and 5, "= -2" holds −2); no thousands separators.
    /// </summary>
    public static string? LastNumber(string text)
    {
        var matches = NumberRegex().Matches(text ?? "");
        return matches.Count == 0 ? null : matches[^1].Value;
    }

    /// <summary>
    /// The content of the last <c>\boxed{…}</c>, nested braces included ("\boxed{\frac{1}{2}}" gives
    /// "\frac{1}{2}"); null when there is none or its braces never close.
    /// </summary>
    public static string? LastBoxed(string text)
    {
        text ??= "";
        const string open = "\\boxed{";
        int start = text.LastIndexOf(open, StringComparison.Ordinal);
        while (start >= 0)
        {
            int depth = 1, i = start + open.Length;
            for (; i < text.Length && depth > 0; i++)
            {
                if (text[i] == '{') depth++;
                else if (text[i] == '}') depth--;
            }
            if (depth == 0)
                return text[(start + open.Length)..(i - 1)].Trim();
            // This one never closes: an earlier, complete one may still hold the answer.
            start = start == 0 ? -1 : text.LastIndexOf(open, start - 1, StringComparison.Ordinal);
        }
        return null;
    }

    private static AnswerExtractor FromPattern(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
            throw new ArgumentException("the regex extractor needs a pattern with one capture group, e.g. \"answer: (\\S+)\"");
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"\"{pattern}\" is not a valid regular expression ({e.Message})", e);
        }
        if (regex.GetGroupNumbers().Length < 2)
            throw new ArgumentException($"\"{pattern}\" has no capture group; put the answer in parentheses, e.g. \"answer: (\\S+)\"");
        // The first match's first capture group; a match where that group took no part holds no answer.
        return new("regex", r => regex.Match(r) is { Success: true } m && m.Groups[1].Success ? m.Groups[1].Value.Trim() : null);
    }

    // An optional sign (not right after a word character or ')', where it is an operator), digits, an optional fraction.
    [GeneratedRegex(@"(?:(?<![\w)])[-+])?(?<![\d.])\d+(?:\.\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex NumberRegex();
}
