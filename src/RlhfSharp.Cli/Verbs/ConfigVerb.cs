using System.CommandLine;
using RlhfSharp.Training.Configuration;

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

    public Command CreateCommand()
    {
        var options = new ConfigVerbOptions(typeof(TConfig));
        var command = new Command(Name, Description);
        options.AddTo(command);
        foreach (var sub in Subcommands())
            command.Add(sub);
        command.SetAction(parseResult => Execute(parseResult, options));
        return command;
    }

    /// <summary>Commands under this verb (<c>rlhf label stats</c>); none unless a verb adds some.</summary>
    protected virtual IEnumerable<Command> Subcommands() => [];

    /// <summary>Runs the verb with the resolved config; returns the exit code.</summary>
    protected abstract int Run(TConfig config, VerbContext context);

    private int Execute(ParseResult parseResult, ConfigVerbOptions options)
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

        TConfig config = ConfigBinder.Load<TConfig>(configPath, options.ReadOverrides(parseResult));
        var context = new VerbContext(output, error, configPath, outDir, resumeDir, ConfigWriter.ToYaml(config));
        return Run(config, context);
    }
}
