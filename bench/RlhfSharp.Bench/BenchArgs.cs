using System.Globalization;

namespace RlhfSharp.Bench;

/// <summary>A bad command line; the message says which option and what it accepts.</summary>
public sealed class BenchUsageException(string message) : Exception(message);

/// <summary>
/// `--name value` and `--flag` options of one verb. Every option a verb reads is recorded, so
/// <see cref="RejectUnknown"/> can name anything misspelt.
/// </summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public BenchArgs(string verb, string[] args)
    {
        Verb = verb;
        RawArgs = args;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new BenchUsageException($"expected an option like --name, got '{a}'");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            _options[name] = value;
        }
    }

    public string Verb { get; }

    /// <summary>The arguments after the verb, for verbs that parse their own options.</summary>
    public string[] RawArgs { get; }

    public bool Help => Flag("help");

    // --name (no value) -> true
    public bool Flag(string name)
    {
        _known.Add(name);
        if (!_options.TryGetValue(name, out var v))
            return false;
        if (v is not null)
            throw new BenchUsageException($"--{name} takes no value, got '{v}'");
        return true;
    }

    // --name 12 or --name 1,2,4 -> the list; null when absent.
    public int[]? Ints(string name)
    {
        _known.Add(name);
        if (!_options.TryGetValue(name, out var v))
            return null;
        if (string.IsNullOrEmpty(v))
            throw new BenchUsageException($"--{name} needs a value, e.g. --{name} 1024 or --{name} 1,2");
        var parts = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1)
                throw new BenchUsageException($"--{name} expects positive integers, got '{v}'");
        }
        return result;
    }

    // --name text -> text; null when absent.
    public string? String(string name)
    {
        _known.Add(name);
        if (!_options.TryGetValue(name, out var v))
            return null;
        if (string.IsNullOrEmpty(v))
            throw new BenchUsageException($"--{name} needs a value");
        return v;
    }

    // Throws for any option given but never read.
    public void RejectUnknown()
    {
        foreach (var name in _options.Keys)
        {
            if (!_known.Contains(name))
                throw new BenchUsageException($"unknown option --{name}; known: {string.Join(", ", _known.Order().Select(k => "--" + k))}");
        }
    }
}
