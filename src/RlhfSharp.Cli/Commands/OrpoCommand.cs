using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf orpo</c>: Align a policy with ORPO: SFT loss plus an odds-ratio preference term on pairs.</summary>
public sealed class OrpoCommand : ConfigVerb<OrpoConfig>
{
    public override string Name => "orpo";

    public override string Description => "Align a policy with ORPO: SFT loss plus an odds-ratio preference term on pairs (no reference model)";

    protected override int Run(OrpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "orpo");
        var summary = OrpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
