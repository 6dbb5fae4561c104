using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf online-dpo</c>: DPO on pairs the current policy samples and a judge labels.</summary>
public sealed class OnlineDpoCommand : ConfigVerb<OnlineDpoConfig>
{
    public override string Name => "online-dpo";

    public override string Description => "Online DPO: two samples per prompt from the current policy, a judge (reward or constitution) picks the better, DPO loss against the reference";

    protected override int Run(OnlineDpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "online-dpo");
        var summary = OnlineDpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.ForRlRun(summary);
    }
}
