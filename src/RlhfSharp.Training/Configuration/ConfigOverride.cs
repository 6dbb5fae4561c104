namespace RlhfSharp.Training.Configuration;

/// <summary>
/// One command-line override: a dotted key (<c>model_init.hidden_size</c>; hyphens read as underscores), its
/// value as typed (parsed with YAML scalar rules when bound) and the text that produced it,
/// which error messages quote (<c>--set model_init.hidden_size=64</c>, <c>--model_init.hidden_size</c>).
/// </summary>
public readonly record struct ConfigOverride(string Key, string Value, string Origin)
{
    /// <summary>Parses <c>key=value</c>; the origin defaults to <c>--set key=value</c>.</summary>
    public static ConfigOverride Parse(string keyEqualsValue, string? origin = null)
    {
        origin ??= $"--set {keyEqualsValue}";
        int eq = keyEqualsValue.IndexOf('=');
        if (eq <= 0)
        {
            throw new ConfigException(origin, null,
                $"expected key=value (for example learning_rate=1e-4 or model_init.hidden_size=64), got '{keyEqualsValue}'");
        }
        return new ConfigOverride(keyEqualsValue[..eq].Trim(), keyEqualsValue[(eq + 1)..], origin);
    }
}
