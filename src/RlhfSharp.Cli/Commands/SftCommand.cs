using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf sft</c>: supervised fine-tuning on demonstrations.</summary>
public sealed class SftCommand : ConfigVerb<SftConfig>
{
    public override string Name => "sft";

    public override string Description => "Supervised fine-tuning on demonstrations (prompt/completion or chat messages)";

    protected override int Run(SftConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "sft");
        var summary = SftTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
