namespace RlhfSharp.Training.Configuration;

/// <summary>
/// A config file, <c>--set</c> override or config flag that cannot be bound. The message starts
/// with where the problem is (<c>file:line:column</c> or the flag) and names the key, what was
/// wrong and what would be right.
/// </summary>
public sealed class ConfigException : Exception, IUserError
{
    public ConfigException(string? location, string? key, string detail, int? line = null)
        : base(location is null ? detail : $"{location}: {detail}")
    {
        Location = location;
        Key = key;
        Line = line;
        Detail = detail;
    }

    /// <summary>The file (with line and column) or the flag the problem came from, if known.</summary>
    public string? Location { get; }

    /// <summary>The dotted key path (<c>model_init.hidden_size</c>) the problem is about, if any.</summary>
    public string? Key { get; }

    /// <summary>The 1-based line in the YAML file, when the problem came from a file.</summary>
    public int? Line { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Detail { get; }
}
