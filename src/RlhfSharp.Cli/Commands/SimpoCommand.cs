using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf simpo</c>: Align a policy with SimPO: length-normalised preference margin on pairs.</summary>
public sealed class SimpoCommand : ConfigVerb<SimpoConfig>
{
    public override string Name => "simpo";

    public override string Description => "Align a policy with SimPO: length-normalised preference margin on pairs (no reference model)";

    protected override int Run(SimpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "simpo");
        var summary = SimpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
