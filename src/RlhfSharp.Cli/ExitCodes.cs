using System.Text.Json.Nodes;

namespace RlhfSharp.Cli;

/// <summary>The exit codes of <c>rlhf</c>.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure: a bug or an environment problem; the full exception is printed.</summary>
    public const int Failure = 1;

    /// <summary>A usage or config error (bad flag, bad config file, bad value): the message alone is printed.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// Training diverged: a loss, gradient norm or weight went NaN or infinite (on_nonfinite). The
    /// message names the step, what went non-finite and the last good checkpoint, which is kept.
    /// </summary>
    public const int Diverged = 3;

    /// <summary>
    /// An RL run stopped early because the reward-hacking alarm fired with on_reward_hacking: stop.
    /// The run is complete up to that step (checkpoint, model, summary.json with reward_hacking).
    /// </summary>
    public const int RewardHacking = 4;

    /// <summary>The exit code of an RL verb whose run wrote <paramref name="summary"/>.</summary>
    public static int ForRlRun(JsonObject summary) =>
        summary["reward_hacking"]?["stopped"]?.GetValue<bool>() == true ? RewardHacking : Success;
}
