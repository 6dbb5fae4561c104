using System.CommandLine;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Verbs;

/// <summary>
/// A verb driven by one config class: it takes the <see cref="ConfigVerbOptions"/>, binds the
/// config (defaults, then <c>--config</c> YAML, then <c>--set</c>, then <c>--key</c> flags) and
/// hands it to <see cref="Run"/>. Config errors surface as <see cref="ConfigException"/> and end the
/// command with exit code 2.
/// </summary>
public abstract class ConfigVerb<TConfig> : IVerb
    where TConfig : class, new()
{
    /// <summary>The verb as typed: <c>sft</c>, <c>ppo</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>rlhf --help</c>.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// The config key that one optional positional argument sets (<c>rlhf report RUN_DIR</c> sets
    /// <c>run_dir</c>), or null when the verb takes none. The key keeps its <c>--key</c> flag; giving both is an error.
    /// </summary>
    protected virtual string? PositionalKey => null;

    /// <summary>How help names the positional argument.</summary>
    protected virtual string PositionalName => "VALUE";

    public Command CreateCommand()
    {
        var options = new ConfigVerbOptions(typeof(TConfig));
        var command = new Command(Name, Description);
        Argument<string>? positional = null;
        if (PositionalKey is { } key)
        {
            positional = new Argument<string>(PositionalName)
            {
                Arity = ArgumentArity.ZeroOrOne,
                Description = $"Sets {key} (the same as --{key}).",
            };
            command.Add(positional);
        }
        options.AddTo(command);
        foreach (var sub in Subcommands())
            command.Add(sub);
        command.SetAction(parseResult => Execute(parseResult, options, positional));
        return command;
    }

    /// <summary>Commands under this verb (<c>rlhf label stats</c>); none unless a verb adds some.</summary>
    protected virtual IEnumerable<Command> Subcommands() => [];

    /// <summary>Runs the verb with the resolved config; returns the exit code.</summary>
    protected abstract int Run(TConfig config, VerbContext context);

    private int Execute(ParseResult parseResult, ConfigVerbOptions options, Argument<string>? positional)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        TextWriter error = parseResult.InvocationConfiguration.Error;
        if (parseResult.GetValue(options.HelpConfig))
        {
            output.WriteLine($"Config keys of 'rlhf {Name}' (YAML key, --<key> flag or --set key=value):");
            output.WriteLine();
            output.Write(ConfigDocs.FormatTable(ConfigDocs.Describe<TConfig>()));
            return ExitCodes.Success;
        }

        string? configPath = parseResult.GetValue(options.Config);
        string? resumeDir = parseResult.GetValue(options.Resume);
        string? resumeCheckpoint = null;
        if (resumeDir is not null && typeof(TrainLoopConfig).IsAssignableFrom(typeof(TConfig)))
        {
            // --resume RUN_DIR/checkpoint-N: that run folder, continued from exactly that checkpoint.
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(resumeDir));
            if (RunFolder.TryParseCheckpointStep(Path.GetFileName(full), out _))
            {
                resumeCheckpoint = full;
                resumeDir = Path.GetDirectoryName(full)!;
            }
        }
        string? outDir = parseResult.GetValue(options.Out) ?? resumeDir;
        if (configPath is null && resumeDir is not null)
        {
            configPath = Path.Combine(resumeDir, ConfigVerbOptions.ResolvedConfigFileName);
            if (!File.Exists(configPath))
            {
                throw new ConfigException("--resume", null,
                    $"'{resumeDir}' has no {ConfigVerbOptions.ResolvedConfigFileName}; is it a run folder? " +
                    "Pass --config FILE to resume with a config of your own.");
            }
        }

        var overrides = options.ReadOverrides(parseResult).ToList();
        if (resumeCheckpoint is not null)
            overrides.Insert(0, new ConfigOverride("resume_from_checkpoint", resumeCheckpoint, "--resume"));
        if (positional is not null && parseResult.GetValue(positional) is { } value)
        {
            string key = PositionalKey!;
            if (overrides.Any(o => o.Key.Replace('-', '_') == key))
                throw new ConfigException(PositionalName, key, $"{PositionalName} was given both as an argument ('{value}') and as a {key} option; give it once");
            overrides.Insert(0, new ConfigOverride(key, value, PositionalName));
        }
        TConfig config = ConfigBinder.Load<TConfig>(configPath, overrides);
        var context = new VerbContext(output, error, configPath, outDir, resumeDir, ConfigWriter.ToYaml(config));
        return Run(config, context);
    }
}
