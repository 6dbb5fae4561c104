using System.Text.Json.Nodes;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// The reward-hacking alarm as an RL run uses it: each held-out evaluation's eval/score (the proxy)
/// and eval/gold_score go to a <see cref="RewardHackingMonitor"/>; when it fires, the evaluation
/// logs <c>eval/reward_hacking</c> = 1, a console line and a text-log line (tag <see cref="Tag"/>)
/// say so, and with <c>on_reward_hacking: stop</c> the run stops after that step's checkpoint.
/// Without a gold scorer the alarm is off and says so once. On resume the window starts afresh.
/// </summary>
public sealed class RewardHackingWatch
{
    public const string Tag = "reward_hacking", Metric = "eval/reward_hacking";

    private readonly RewardHackingMonitor? _monitor;
    private readonly TrainingSession _session;
    private readonly bool _stop;

    public RewardHackingWatch(RlConfig cfg, TrainingSession session, bool hasGold, bool hasHeldOut)
    {
        _session = session;
        _stop = cfg.OnRewardHacking == "stop";
        if (hasGold && hasHeldOut)
        {
            _monitor = cfg.RewardHackingMonitor();
            return;
        }
        var why = !hasHeldOut ? "there are no held-out prompts (eval_file)" : "the data has no gold scorer to compare the proxy reward with";
        var line = $"reward-hacking alarm off: {why}";
        session.Logger.LogText(session.ResumeFrom?.Step ?? 0, Tag, line);
        session.Progress.Message(line);
    }

    /// <summary>The first alarm of this run, or null.</summary>
    public RewardHackingAlarm? Fired => _monitor?.First;

    /// <summary>True once the alarm fired and on_reward_hacking is stop.</summary>
    public bool StopRequested => _stop && Fired is not null;

    /// <summary>Feeds an evaluation's metrics to the alarm; adds eval/reward_hacking = 1 to them when it fires.</summary>
    public Dictionary<string, double> Check(long step, Dictionary<string, double> metrics)
    {
        if (_monitor is null || !metrics.TryGetValue("eval/score", out var proxy))
            return metrics;
        double? gold = metrics.TryGetValue("eval/gold_score", out var g) ? g : null;
        if (_monitor.Observe(step, proxy, gold) is not { } alarm)
            return metrics;
        metrics[Metric] = 1;
        var line = alarm.Describe() + (_stop ? "; on_reward_hacking: stop, so the run ends after this step's checkpoint" : " (on_reward_hacking: warn, the run goes on)");
        _session.Logger.LogText(step, Tag, line);
        _session.Progress.Message("warning: " + line);
        return metrics;
    }

    /// <summary>summary.json's <c>reward_hacking</c>: the first alarm (step, window start, proxy and gold change) and whether it stopped the run.</summary>
    public void AddSummary(JsonObject summary)
    {
        if (Fired is not { } a)
            return;
        summary[Tag] = new JsonObject
        {
            ["step"] = a.Step,
            ["from_step"] = a.FromStep,
            ["proxy_change"] = a.ProxyChange,
            ["gold_change"] = a.GoldChange,
            ["action"] = _stop ? "stop" : "warn",
            ["stopped"] = _stop,
        };
    }
}
