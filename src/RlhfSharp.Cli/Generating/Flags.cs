using System.CommandLine;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// Options spelled as the other verbs spell config keys: <c>--max_new_tokens</c>, also
/// <c>--max-new-tokens</c>.
/// </summary>
internal static class Flags
{
    /// <summary>An option named <c>--key</c> (and <c>--key-with-hyphens</c> when the key has underscores).</summary>
    public static Option<T> Create<T>(string key, string description, string? helpName = null)
    {
        string name = "--" + key, hyphenated = "--" + key.Replace('_', '-');
        Option<T> option = hyphenated == name ? new(name) : new(name, hyphenated);
        option.Description = description;
        if (helpName is not null)
            option.HelpName = helpName;
        return option;
    }

    /// <summary>As <see cref="Create{T}"/>, with a default shown in help.</summary>
    public static Option<T> Create<T>(string key, string description, T defaultValue, string? helpName = null)
    {
        var option = Create<T>(key, description, helpName);
        option.DefaultValueFactory = _ => defaultValue;
        return option;
    }
}
