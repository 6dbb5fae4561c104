using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Cli.Commands;

/// <summary><c>rlhf ppo</c>: PPO with a critic against a reward model or reward function.</summary>
public sealed class PpoCommand : ConfigVerb<PpoConfig>
{
    public override string Name => "ppo";

    public override string Description => "RLHF with PPO: actor, critic, frozen reference and reward, adaptive KL penalty";

    protected override int Run(PpoConfig config, VerbContext context)
    {
        var runDir = RunDirs.Resolve(context, "ppo");
        var summary = PpoTrainer.Run(config, runDir, resume: context.ResumeDir is not null, ConsoleProgress.ForConsole(context.Output));
        RunDirs.PrintSummary(context.Output, runDir, summary);
        return ExitCodes.ForRlRun(summary);
    }
}
