using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Judges;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf label</c>: AI feedback: a judge labels pairs of sampled responses.</summary>
public sealed class LabelCommand : ConfigVerb<LabelConfig>
{
    public override string Name => "label";

    public override string Description => "RLAIF: sample response pairs from a policy and let a judge (constitution, gold scorer or an OpenAI-compatible server) label them as preference JSONL";

    protected override int Run(LabelConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "label");
        var summary = Labeller.Run(config, runDir, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
