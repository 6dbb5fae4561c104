using System.Text.Json.Nodes;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// The reward-hacking alarm as an RL run uses it: each held-out evaluation's eval/score (the proxy)
/// and eval/gold_score go to a <see cref="RewardHackingMonitor"/>; when it fires, the evaluation
/// logs <c>eval/reward_hacking</c> = 1, a console line and a text-log line (tag <see cref="Tag"/>)
/// say so, and with <c>on_reward_hacking: stop</c> the run stops after that step's checkpoint.
/// Without a gold scorer the alarm is off and says so once. A checkpoint keeps the evaluations in
/// the window and the first alarm, so a resumed run fires where the uninterrupted run would have; an
/// alarm from before the resume (the one that stopped the run, say) does not stop it again.
/// </summary>
public sealed class RewardHackingWatch
{
    public const string Tag = "reward_hacking", Metric = "eval/reward_hacking";

    // Checkpoint keys: the window's evaluations as (step, proxy, gold) triples, and the first alarm as (step, from_step, proxy_change, gold_change).
    internal const string HistoryKey = "reward_hacking_history", FirstKey = "reward_hacking_first";

    private readonly RewardHackingMonitor? _monitor;
    private readonly TrainingSession _session;
    private readonly bool _stop;
    private bool _firedThisRun;

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

    /// <summary>The first alarm of the run (one from before a resume included), or null.</summary>
    public RewardHackingAlarm? Fired => _monitor?.First;

    /// <summary>True once the alarm fired in this run (since its start or resume) and on_reward_hacking is stop.</summary>
    public bool StopRequested => _stop && _firedThisRun;

    /// <summary>Feeds an evaluation's metrics to the alarm; adds eval/reward_hacking = 1 to them when it fires.</summary>
    public Dictionary<string, double> Check(long step, Dictionary<string, double> metrics)
    {
        if (_monitor is null || !metrics.TryGetValue("eval/score", out var proxy))
            return metrics;
        double? gold = metrics.TryGetValue("eval/gold_score", out var g) ? g : null;
        if (_monitor.Observe(step, proxy, gold) is not { } alarm)
            return metrics;
        metrics[Metric] = 1;
        _firedThisRun = true;
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
            ["stopped"] = StopRequested,
        };
    }

    /// <summary>Writes the alarm's window (its last window − 1 evaluations are all it needs) and first alarm into a checkpoint's state.</summary>
    public void Save(TrainerState state)
    {
        if (_monitor is null)
            return;
        var history = _monitor.History;
        state.SetDoubles(HistoryKey, history.Skip(Math.Max(0, history.Count - (_monitor.Window - 1))).SelectMany(e => new[] { e.Step, e.Proxy, e.Gold }));
        if (_monitor.First is { } a)
            state.SetDoubles(FirstKey, [a.Step, a.FromStep, a.ProxyChange, a.GoldChange]);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; a checkpoint without it (an older one) starts the window afresh.</summary>
    public void Load(TrainerState state)
    {
        if (_monitor is null || !state.Contains(HistoryKey))
            return;
        var h = state.GetDoubles(HistoryKey);
        if (h.Length % 3 != 0)
            throw new TrainingSetupException($"checkpoint state '{HistoryKey}' holds {h.Length} numbers; it must hold (step, proxy, gold) triples");
        var history = Enumerable.Range(0, h.Length / 3).Select(i => ((long)h[3 * i], h[(3 * i) + 1], h[(3 * i) + 2]));
        RewardHackingAlarm? first = null;
        if (state.Contains(FirstKey))
        {
            var f = state.GetDoubles(FirstKey);
            if (f.Length != 4)
                throw new TrainingSetupException($"checkpoint state '{FirstKey}' holds {f.Length} numbers; it must hold step, from_step, proxy_change and gold_change");
            first = new RewardHackingAlarm((long)f[0], (long)f[1], f[2], f[3]);
        }
        try
        {
            _monitor.Restore(history, first);
        }
        catch (ArgumentException e)
        {
            throw new TrainingSetupException($"checkpoint state '{HistoryKey}': {e.Message}");
        }
    }
}
