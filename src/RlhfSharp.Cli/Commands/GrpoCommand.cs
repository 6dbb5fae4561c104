using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf grpo</c>: critic-free RL with group advantages (GRPO or RLOO).</summary>
public sealed class GrpoCommand : ConfigVerb<GrpoConfig>
{
    public override string Name => "grpo";

    public override string Description => "Critic-free RL: G samples per prompt, GRPO or RLOO advantages, clipped loss with a k3 KL term";

    protected override int Run(GrpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "grpo");
        var summary = GrpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.ForRlRun(summary);
    }
}
