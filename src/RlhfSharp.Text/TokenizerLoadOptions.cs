using System.Globalization;

namespace RlhfSharp.Text;

/// <summary>Settings for loading a tokenizer that its files do not hold.</summary>
public sealed record TokenizerLoadOptions
{
    /// <summary>The environment variable that sets <see cref="RegexTimeout"/> when the options leave it null: seconds, e.g. <c>5</c> or <c>0.5</c>.</summary>
    public const string RegexTimeoutVariable = "RLHFSHARP_TOKENIZER_REGEX_TIMEOUT";

    /// <summary>The regex time limit when neither the options nor the environment set one.</summary>
    public static readonly TimeSpan DefaultRegexTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long one match of a pre-tokenizer regex from a tokenizer file may run before encoding
    /// stops with <see cref="TokenizerRegexTimeoutException"/> (a pattern that backtracks
    /// catastrophically would otherwise run for as long as it likes). Null takes
    /// <see cref="RegexTimeoutVariable"/>, else <see cref="DefaultRegexTimeout"/>;
    /// <see cref="System.Text.RegularExpressions.Regex.InfiniteMatchTimeout"/> turns the limit off.
    /// </summary>
    public TimeSpan? RegexTimeout { get; init; }

    /// <summary>The regex time limit these options give, after the environment and the default.</summary>
    /// <exception cref="TokenizerFormatException">The environment variable is not a positive number of seconds.</exception>
    public TimeSpan ResolveRegexTimeout()
    {
        if (RegexTimeout is TimeSpan set)
        {
            if (set != System.Text.RegularExpressions.Regex.InfiniteMatchTimeout
                && (set <= TimeSpan.Zero || set.TotalMilliseconds >= int.MaxValue))
                throw new ArgumentOutOfRangeException(nameof(RegexTimeout), set, "must be positive and under 24 days, or Regex.InfiniteMatchTimeout for no limit");
            return set;
        }
        return ParseRegexTimeout(Environment.GetEnvironmentVariable(RegexTimeoutVariable));
    }

    /// <summary>The limit an environment value sets: null or blank for the default, else positive seconds.</summary>
    internal static TimeSpan ParseRegexTimeout(string? env)
    {
        if (string.IsNullOrWhiteSpace(env)) return DefaultRegexTimeout;
        if (double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
            && seconds > 0 && seconds <= int.MaxValue / 1000.0)
            return TimeSpan.FromSeconds(seconds);
        throw new TokenizerFormatException($"environment variable {RegexTimeoutVariable}", "(value)",
            $"is \"{env}\"; expected a positive number of seconds for one pre-tokenizer regex match, e.g. 5 (or leave it unset for {DefaultRegexTimeout.TotalSeconds} s)");
    }
}
