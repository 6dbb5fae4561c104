using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf dpo</c>: direct preference optimisation (DPO, IPO, conservative DPO).</summary>
public sealed class DpoCommand : ConfigVerb<DpoConfig>
{
    public override string Name => "dpo";

    public override string Description => "Align a policy directly on preference pairs with DPO, IPO or conservative DPO (no reward model, no sampling)";

    protected override int Run(DpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "dpo");
        var summary = DpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
