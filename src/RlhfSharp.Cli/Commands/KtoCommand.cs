using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf kto</c>: Align a policy with KTO on completions labelled desirable or undesirable.</summary>
public sealed class KtoCommand : ConfigVerb<KtoConfig>
{
    public override string Name => "kto";

    public override string Description => "Align a policy with KTO on completions labelled desirable or undesirable (unpaired; paired files are split)";

    protected override int Run(KtoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "kto");
        var summary = KtoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
