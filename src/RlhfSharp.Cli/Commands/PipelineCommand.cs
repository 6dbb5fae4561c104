using RlhfSharp.Cli.Reporting;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Pipeline;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf pipeline</c>: the whole recipe on the built-in task (or a user's model and data) with a results table.</summary>
public sealed class PipelineCommand : ConfigVerb<PipelineConfig>
{
    public override string Name => "pipeline";

    public override string Description => "Data, SFT, reward model and PPO, plus DPO and GRPO from the same SFT model, then every policy compared on held-out prompts, with report.html";

    /// <summary>The example config of each stage, shipped inside the program.</summary>
    internal static IReadOnlyDictionary<string, string> StageConfigs(IEnumerable<string> stages)
    {
        var assembly = typeof(PipelineCommand).Assembly;
        var configs = new Dictionary<string, string>();
        foreach (var stage in stages)
        {
            using var stream = assembly.GetManifestResourceStream($"examples.{stage}.yaml")
                ?? throw new InvalidOperationException($"the program was built without examples/{stage}.yaml");
            using var reader = new StreamReader(stream);
            configs[stage] = reader.ReadToEnd();
        }
        return configs;
    }

    protected override int Run(PipelineConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "pipeline");
        // The ppo stage in rounds also labels and trains the reward model with their example configs.
        var stages = config.Rounds > 1 ? config.Stages.Union(["label", "rm"]) : config.Stages;
        PipelineRunner.Run(config, runDir, StageConfigs(stages), ConsoleProgress.ForConsole(context.Output), context.Output);
        context.Output.WriteLine($"run folder: {Path.GetFullPath(runDir)}");
        // On several ranks rank 0 writes the report (the others' console is silent anyway).
        if (Tensors.Distributed.World.Current.IsMain)
        {
            // With seed_sft each seed's chain is a pipeline folder of its own, with its own report.
            if (config.SeedSft)
            {
                foreach (int seed in config.Seeds)
                    context.Output.WriteLine($"report of seed {seed}: {ReportPage.Write(Path.Combine(runDir, $"seed{seed}"))}");
            }
            context.Output.WriteLine($"report: {ReportPage.Write(runDir)}");
        }
        return ExitCodes.Success;
    }
}
