using System.CommandLine;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Serving.Labelling;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf label</c>: a judge labels pairs of responses. The automatic judges (AI feedback) write a
/// run folder; <c>--judge human</c> serves a labelling page until SIGTERM or Ctrl+C and appends
/// people's labels to <c>--out</c> (a .jsonl file, or <c>prefs_train.jsonl</c> in that folder).
/// <c>rlhf label stats FILE</c> reports on a human labelling file.
/// </summary>
public sealed class LabelCommand : ConfigVerb<LabelConfig>
{
    public override string Name => "label";

    public override string Description => "Label preference pairs: a judge (constitution, gold scorer, local LM, OpenAI-compatible server) on sampled pairs, or people in a browser (--judge human); 'label stats' reports labeller agreement";

    protected override IEnumerable<Command> Subcommands() => [LabelStatsCommand.Create()];

    protected override int Run(LabelConfig config, VerbContext context)
    {
        if (config.Judge == "human")
            return RunHuman(config, context);
        var runDir = RunDirs.Resolve(context, "label");
        var summary = Labeller.Run(config, runDir, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }

    private static int RunHuman(LabelConfig config, VerbContext context)
    {
        using var stop = new ShutdownSignal();

        var outPath = context.OutDir ?? Path.Combine("runs", RunFolder.TimestampedName("label-human", DateTimeOffset.UtcNow));
        var preferencePath = HumanLabelling.PreferencePath(outPath);
        var summary = HumanLabelling.RunAsync(config, preferencePath, context.Output, context.Error, stop.Token).GetAwaiter().GetResult();
        context.Output.WriteLine("stopped; restart with the same --out to continue where this left off");
        foreach (var (key, value) in summary)
            context.Output.WriteLine($"  {key,-18} {value}");
        context.Output.WriteLine($"train on it: rlhf rm --train_file {preferencePath} (or rlhf dpo); agreement: rlhf label stats {preferencePath}");
        return ExitCodes.Success;
    }
}
