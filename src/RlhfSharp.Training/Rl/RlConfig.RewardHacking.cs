using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Evaluation;

namespace RlhfSharp.Training.Rl;

/// <summary>The keys of the reward-hacking alarm (see <see cref="RewardHackingMonitor"/>) and of keeping the best policy by gold score.</summary>
public abstract partial class RlConfig
{
    /// <summary>The values <see cref="OnRewardHacking"/> takes.</summary>
    public static readonly IReadOnlyList<string> RewardHackingActions = ["warn", "stop"];

    [ConfigKey("reward_hacking_window", "Held-out evaluations the reward-hacking alarm compares: it fires when from the first to the last of them eval/score (the proxy) rose by more than reward_hacking_proxy_rise while eval/gold_score fell by more than reward_hacking_gold_drop (needs a gold scorer; at least 2)")]
    public int RewardHackingWindow { get; set; } = 3;

    [ConfigKey("reward_hacking_proxy_rise", "Reward-hacking alarm: how much the proxy reward must rise over the window (in the reward's units, >= 0)")]
    public double RewardHackingProxyRise { get; set; } = 0.05;

    [ConfigKey("reward_hacking_gold_drop", "Reward-hacking alarm: how much the gold score must fall over the window (in the gold score's units, >= 0)")]
    public double RewardHackingGoldDrop { get; set; } = 0.05;

    [ConfigKey("on_reward_hacking", "What the reward-hacking alarm does: warn (log it and go on) or stop (save a checkpoint and the model at that step, end the run; the rlhf verb exits with code 4)")]
    public string OnRewardHacking { get; set; } = "warn";

    [ConfigKey("keep_best", "Keep a copy of the policy with the best held-out eval/gold_score so far in the run folder's best_model (best.json names the step; with LoRA the adapter); needs a gold scorer")]
    public bool KeepBest { get; set; }

    /// <summary>The alarm these keys describe.</summary>
    public RewardHackingMonitor RewardHackingMonitor() => new(RewardHackingWindow, RewardHackingProxyRise, RewardHackingGoldDrop);

    /// <summary>What is wrong with the alarm's keys.</summary>
    internal IEnumerable<string> RewardHackingErrors()
    {
        if (RewardHackingWindow < 2)
            yield return $"reward_hacking_window must be at least 2 (the alarm compares the first and the last of that many evaluations), got {RewardHackingWindow}";
        if (!(RewardHackingProxyRise >= 0) || !double.IsFinite(RewardHackingProxyRise))
            yield return $"reward_hacking_proxy_rise must be a number >= 0, got {RewardHackingProxyRise}";
        if (!(RewardHackingGoldDrop >= 0) || !double.IsFinite(RewardHackingGoldDrop))
            yield return $"reward_hacking_gold_drop must be a number >= 0, got {RewardHackingGoldDrop}";
        if (!RewardHackingActions.Contains(OnRewardHacking))
            yield return $"on_reward_hacking: '{OnRewardHacking}' is not known; valid: {string.Join(", ", RewardHackingActions)}";
    }
}
