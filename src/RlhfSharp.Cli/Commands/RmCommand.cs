using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf rm</c>: reward-model training on preference pairs.</summary>
public sealed class RmCommand : ConfigVerb<RewardConfig>
{
    public override string Name => "rm";

    public override string Description => "Train a reward model on preference pairs (Bradley-Terry loss)";

    protected override int Run(RewardConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "rm");
        var summary = RewardTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.Success;
    }
}
