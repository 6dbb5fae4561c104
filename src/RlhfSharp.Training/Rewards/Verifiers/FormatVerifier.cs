using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Rewards.Verifiers;

/// <summary>
/// The format reward (name "format"): 1 when the trimmed response matches the pattern, else 0.
/// With <see cref="FullMatch"/> the whole response must match (the pattern is anchored at both
/// ends, as Python's re.fullmatch); otherwise a match anywhere counts (re.search).
/// </summary>
public sealed class FormatVerifier : IRewardSource
{
    /// <summary>The match modes <c>format_match</c> accepts.</summary>
    public static IReadOnlyList<string> Modes { get; } = ["full", "search"];

    private readonly Regex _regex;

    /// <exception cref="ArgumentException">The pattern is not a valid regular expression.</exception>
    public FormatVerifier(string pattern, bool fullMatch)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Pattern = pattern;
        FullMatch = fullMatch;
        try
        {
            // Parsed alone first, so an error speaks of the pattern as written rather than its anchored form.
            _regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"\"{pattern}\" is not a valid regular expression ({e.Message})", e);
        }
        if (fullMatch)
            _regex = new Regex($@"\A(?:{pattern})\z", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public string Name => "format";

    public string Pattern { get; }

    public bool FullMatch { get; }

    public bool Matches(string response) => _regex.IsMatch((response ?? "").Trim());

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        return [.. responses.Select(r => Matches(r) ? 1.0 : 0.0)];
    }
}
