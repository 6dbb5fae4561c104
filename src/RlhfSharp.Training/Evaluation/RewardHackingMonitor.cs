using System.Globalization;

namespace RlhfSharp.Training.Evaluation;

/// <summary>What the reward-hacking alarm saw when it fired: over the window from <see cref="FromStep"/> to <see cref="Step"/>.</summary>
public sealed record RewardHackingAlarm(long Step, long FromStep, double ProxyChange, double GoldChange)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"reward hacking at step {Step}: from step {FromStep} the proxy reward (eval/score) rose by {ProxyChange:+0.000;-0.000} while the gold score fell by {-GoldChange:0.000}");
}

/// <summary>
/// The reward-hacking alarm (the over-optimisation of Gao et al. 2022, "Scaling Laws for Reward
/// Model Overoptimization": the proxy reward keeps rising while the gold score peaks and falls).
/// Fed each held-out evaluation's (step, proxy, gold) in order, it compares the newest evaluation
/// with the one <c>window − 1</c> evaluations before it, i.e. the first of the last <c>window</c>:
/// <code>
///   Δproxy = proxy[n] − proxy[n − w + 1],  Δgold = gold[n] − gold[n − w + 1]
///   fires at n  ⇔  n ≥ w − 1  ∧  Δproxy &gt; proxy_rise  ∧  Δgold &lt; −gold_drop
/// </code>
/// Both thresholds are absolute, in the units of the scores. Without a gold score the alarm is off:
/// an evaluation without one is ignored.
/// </summary>
public sealed class RewardHackingMonitor
{
    private readonly List<(long Step, double Proxy, double Gold)> _history = [];

    /// <param name="window">Evaluations compared, the newest and the oldest of them (at least 2).</param>
    /// <param name="proxyRise">How much the proxy must rise over the window (≥ 0).</param>
    /// <param name="goldDrop">How much the gold score must fall over the window (≥ 0).</param>
    public RewardHackingMonitor(int window, double proxyRise, double goldDrop)
    {
        if (window < 2)
            throw new ArgumentOutOfRangeException(nameof(window), window, "the window must hold at least two evaluations");
        if (!(proxyRise >= 0) || !(goldDrop >= 0))
            throw new ArgumentOutOfRangeException(nameof(proxyRise), "the thresholds must be non-negative numbers");
        Window = window;
        ProxyRise = proxyRise;
        GoldDrop = goldDrop;
    }

    public int Window { get; }

    public double ProxyRise { get; }

    public double GoldDrop { get; }

    /// <summary>The first alarm, or null while it has not fired.</summary>
    public RewardHackingAlarm? First { get; private set; }

    /// <summary>The evaluations taken in so far, oldest first (what a checkpoint keeps).</summary>
    public IReadOnlyList<(long Step, double Proxy, double Gold)> History => _history;

    /// <summary>
    /// Puts the monitor back where a checkpoint left it: the evaluations it had taken in (steps in
    /// increasing order, finite scores) and its first alarm, if any.
    /// </summary>
    public void Restore(IEnumerable<(long Step, double Proxy, double Gold)> history, RewardHackingAlarm? first)
    {
        var list = history.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (!double.IsFinite(list[i].Proxy) || !double.IsFinite(list[i].Gold))
                throw new ArgumentException($"evaluation {i} (step {list[i].Step}) has a non-finite score", nameof(history));
            if (i > 0 && list[i].Step <= list[i - 1].Step)
                throw new ArgumentException($"evaluations must come in increasing step order: step {list[i].Step} after step {list[i - 1].Step}", nameof(history));
        }
        _history.Clear();
        _history.AddRange(list);
        First = first;
    }

    /// <summary>
    /// Adds one evaluation (steps in increasing order); returns the alarm when it fires at this
    /// evaluation, else null. A null or non-finite gold or proxy score is ignored.
    /// </summary>
    public RewardHackingAlarm? Observe(long step, double proxy, double? gold)
    {
        if (gold is not { } g || !double.IsFinite(g) || !double.IsFinite(proxy))
            return null;
        if (_history.Count > 0 && step <= _history[^1].Step)
            throw new ArgumentException($"evaluations must come in increasing step order: step {step} after step {_history[^1].Step}", nameof(step));
        _history.Add((step, proxy, g));
        if (_history.Count < Window)
            return null;
        var from = _history[^Window];
        var now = _history[^1];
        double dProxy = now.Proxy - from.Proxy, dGold = now.Gold - from.Gold;
        if (!(dProxy > ProxyRise && dGold < -GoldDrop))
            return null;
        var alarm = new RewardHackingAlarm(step, from.Step, dProxy, dGold);
        First ??= alarm;
        return alarm;
    }
}
