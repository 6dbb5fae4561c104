using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Rewards.Verifiers;

/// <summary>
/// Decides whether an extracted answer equals the reference: when both read as numbers, within an
/// absolute tolerance (|a − b| ≤ tolerance, so "15.0" equals "15" at tolerance 0); otherwise as text,
/// after normalisation (when on): whitespace runs collapsed, ends trimmed, a final '.' dropped, case ignored.
/// </summary>
public sealed partial class AnswerComparer(double tolerance, bool normalizeText)
{
    public double Tolerance { get; } = tolerance >= 0 && double.IsFinite(tolerance)
        ? tolerance : throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be a finite number >= 0");

    public bool NormalizeText { get; } = normalizeText;

    public bool Equal(string answer, string reference)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(reference);
        if (TryNumber(answer, out var a) && TryNumber(reference, out var b))
            return Math.Abs(a - b) <= Tolerance;
        return NormalizeText ? Normalize(answer) == Normalize(reference) : answer == reference;
    }

    /// <summary>Reads "12", "-3", "+2.50" (invariant culture, no exponent, no thousands separators).</summary>
    public static bool TryNumber(string text, out double value)
    {
        text = text.Trim();
        value = 0;
        return PlainNumberRegex().IsMatch(text) && double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Whitespace collapsed to single spaces, trimmed, one final '.' dropped, lower case.</summary>
    public static string Normalize(string text)
    {
        var s = WhitespaceRegex().Replace(text, " ").Trim();
        if (s.EndsWith('.'))
            s = s[..^1].TrimEnd();
        return s.ToLowerInvariant();
    }

    [GeneratedRegex(@"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumberRegex();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhitespaceRegex();
}
