using System.CommandLine;
using System.CommandLine.Parsing;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Verbs;

/// <summary>
/// The options every config-driven verb takes: <c>--config FILE</c>, <c>--out RUN_DIR</c>,
/// <c>--resume RUN_DIR</c>, <c>--set key=value</c> (repeatable), <c>--help-config</c>, and one
/// <c>--key value</c> flag per config key, generated from the config class
/// (<c>--learning_rate 1e-4</c>, also spelled <c>--learning-rate</c>; <c>--model_init.hidden_size 64</c>).
/// A bool key's flag may stand alone to mean true (<c>--gradient_checkpointing</c>).
/// </summary>
public sealed class ConfigVerbOptions
{
    /// <summary>The file a run folder stores its resolved config in; <c>--resume</c> reads it back.</summary>
    public const string ResolvedConfigFileName = "config.resolved.yaml";

    private static readonly HashSet<string> Reserved = ["config", "out", "resume", "set", "help_config", "help", "version"];

    private readonly List<(Option<string> Option, ConfigKeyInfo Info)> _keyFlags = [];

    public ConfigVerbOptions(Type configType)
    {
        ConfigType = configType;
        foreach (ConfigKeyInfo info in ConfigDocs.Describe(configType))
        {
            if (info.IsSection)
            {
                continue; // a section is set through its keys, or with --set section={...}
            }
            string root = info.Key.Split('.')[0];
            if (Reserved.Contains(root))
            {
                throw new InvalidOperationException(
                    $"{configType.Name}: config key '{info.Key}' clashes with a standard option of config verbs.");
            }
            _keyFlags.Add((CreateKeyFlag(info), info));
        }
    }

    public Type ConfigType { get; }

    public Option<string> Config { get; } = new("--config", "-c")
    {
        Description = "YAML config file; keys not in it keep their defaults.",
        HelpName = "FILE",
    };

    public Option<string> Out { get; } = new("--out", "-o")
    {
        Description = "Run folder to write checkpoints, metrics and " + ResolvedConfigFileName + " into.",
        HelpName = "RUN_DIR",
    };

    public Option<string> Resume { get; } = new("--resume")
    {
        Description = "Run folder to resume (from its newest whole checkpoint), or one of its checkpoint-N folders to continue from exactly that one; without --config the run folder's " + ResolvedConfigFileName + " is the config.",
        HelpName = "RUN_DIR",
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override a config key (repeatable): --set learning_rate=1e-4, --set model_init.hidden_size=64. --<key> flags win over --set.",
        HelpName = "KEY=VALUE",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> HelpConfig { get; } = new("--help-config")
    {
        Description = "List every config key with its type, default and description, then exit.",
    };

    /// <summary>Adds the standard options, then the key flags, to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Config);
        command.Add(Out);
        command.Add(Resume);
        command.Add(Set);
        command.Add(HelpConfig);
        foreach ((Option<string> option, _) in _keyFlags)
        {
            command.Add(option);
        }
    }

    /// <summary>
    /// The overrides in precedence order: every <c>--set</c> in command-line order, then the
    /// <c>--key</c> flags, so that a flag wins over a <c>--set</c> of the same key.
    /// </summary>
    public IReadOnlyList<ConfigOverride> ReadOverrides(ParseResult parseResult)
    {
        var overrides = new List<ConfigOverride>();
        foreach (string item in parseResult.GetValue(Set) ?? [])
        {
            overrides.Add(ConfigOverride.Parse(item));
        }
        foreach ((Option<string> option, ConfigKeyInfo info) in _keyFlags)
        {
            OptionResult? result = parseResult.GetResult(option);
            if (result is null || result.Implicit)
            {
                continue;
            }
            string flag = result.IdentifierToken?.Value ?? option.Name;
            string? value = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            overrides.Add(value is null
                ? new ConfigOverride(info.Key, "true", flag)
                : new ConfigOverride(info.Key, value, $"{flag} {value}"));
        }
        return overrides;
    }

    private static Option<string> CreateKeyFlag(ConfigKeyInfo info)
    {
        string name = "--" + info.Key;
        string hyphenated = "--" + info.Key.Replace('_', '-');
        Option<string> option = hyphenated == name ? new(name) : new(name, hyphenated);
        bool isBool = info.ValueType == typeof(bool) || info.ValueType == typeof(bool?);
        option.Arity = isBool ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne;
        option.HelpName = info.Type;
        string description = string.IsNullOrWhiteSpace(info.Description) ? "" : info.Description.TrimEnd() + " ";
        option.Description = $"{description}[default: {info.Default}]";
        return option;
    }
}
