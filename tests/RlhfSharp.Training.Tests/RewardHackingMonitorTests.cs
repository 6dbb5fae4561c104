using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary>The reward-hacking alarm on evaluation sequences worked out by hand.</summary>
public sealed class RewardHackingMonitorTests
{
    [Fact]
    public void FiresWhenProxyRisesAndGoldFallsOverTheWindow()
    {
        var m = new RewardHackingMonitor(window: 3, proxyRise: 0.1, goldDrop: 0.1);
        // step: proxy, gold. Gold peaks at step 20 (0.5) while the proxy keeps rising.
        Assert.Null(m.Observe(0, 0.0, 0.0));
        Assert.Null(m.Observe(10, 0.2, 0.3));   // two evaluations: fewer than the window
        Assert.Null(m.Observe(20, 0.4, 0.5));   // from step 0: Δproxy +0.4, Δgold +0.5: gold rose
        Assert.Null(m.Observe(30, 0.6, 0.35));  // from step 10: Δproxy +0.4, Δgold +0.05: gold rose
        var alarm = m.Observe(40, 0.8, 0.2);    // from step 20: Δproxy +0.4, Δgold −0.3: fires
        Assert.NotNull(alarm);
        Assert.Equal(40, alarm.Step);
        Assert.Equal(20, alarm.FromStep);
        Assert.Equal(0.4, alarm.ProxyChange, 12);
        Assert.Equal(-0.3, alarm.GoldChange, 12);
        Assert.Same(alarm, m.First);
        Assert.Contains("step 40", alarm.Describe(), StringComparison.Ordinal);
        var again = m.Observe(50, 1.0, 0.1);    // from step 30: +0.4, −0.25: fires again, First stays
        Assert.NotNull(again);
        Assert.Same(alarm, m.First);
    }

    [Fact]
    public void NoiseUnderTheThresholdsDoesNotFire()
    {
        var m = new RewardHackingMonitor(3, 0.1, 0.1);
        double[] proxy = [0.50, 0.55, 0.58, 0.62, 0.60, 0.66];
        double[] gold = [0.30, 0.25, 0.28, 0.22, 0.27, 0.20];
        for (int i = 0; i < proxy.Length; i++)
            Assert.Null(m.Observe(i * 5, proxy[i], gold[i])); // largest |Δ| over 3 evaluations: proxy 0.08, gold 0.08
        Assert.Null(m.First);
        // The proxy rising alone, or gold falling alone, is not hacking.
        var rising = new RewardHackingMonitor(2, 0.1, 0.1);
        Assert.Null(rising.Observe(0, 0, 1));
        Assert.Null(rising.Observe(1, 5, 1));
        Assert.Null(rising.Observe(2, 5, -3));
    }

    [Fact]
    public void ThresholdsAreStrictAndTheWindowCountsEvaluations()
    {
        // Window 2: each evaluation against the one before. Exactly the threshold does not fire.
        var m = new RewardHackingMonitor(2, 0.5, 0.25);
        Assert.Null(m.Observe(0, 0, 0));
        Assert.Null(m.Observe(1, 0.5, -0.25));
        Assert.NotNull(m.Observe(2, 1.5, -1.0)); // from step 1: +1.0, −0.75
        // Window 4: a fall in the middle of the window is not seen when the ends agree.
        var w4 = new RewardHackingMonitor(4, 0.1, 0.1);
        Assert.Null(w4.Observe(0, 0.0, 0.5));
        Assert.Null(w4.Observe(1, 0.3, 0.0));
        Assert.Null(w4.Observe(2, 0.6, 0.0)); // three evaluations: fewer than the window, although the last two alone would fire
        Assert.Null(w4.Observe(3, 0.9, 0.5)); // from step 0: +0.9, Δgold 0
        Assert.Null(w4.Observe(4, 1.2, 0.05)); // from step 1: +0.9, +0.05
        var alarm = w4.Observe(5, 1.5, -0.3); // from step 2: +0.9, −0.3
        Assert.Equal(2, alarm?.FromStep);
    }

    [Fact]
    public void WithoutGoldTheAlarmIsOff()
    {
        var m = new RewardHackingMonitor(2, 0, 0);
        Assert.Null(m.Observe(0, 0, null));
        Assert.Null(m.Observe(1, 10, null));
        Assert.Null(m.Observe(2, 20, double.NaN));
        Assert.Null(m.First);
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardHackingMonitor(1, 0.1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardHackingMonitor(3, -0.1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardHackingMonitor(3, 0.1, double.NaN));
        var m = new RewardHackingMonitor(2, 0, 0);
        m.Observe(5, 0, 0);
        Assert.Throws<ArgumentException>(() => m.Observe(5, 1, -1));

        var cfg = new GrpoConfig { Model = "m", Data = "d", RewardFuncs = ["gold"], RewardHackingWindow = 1, OnRewardHacking = "halt", RewardHackingGoldDrop = -1 };
        var problems = cfg.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("reward_hacking_window", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("on_reward_hacking: 'halt'", StringComparison.Ordinal) && p.Contains("warn, stop", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("reward_hacking_gold_drop", StringComparison.Ordinal));
    }

    [Fact]
    public void ARestoredMonitorGoesOnAsTheOneItWasSavedFrom()
    {
        var whole = new RewardHackingMonitor(3, 0.1, 0.1);
        (long, double, double)[] evals = [(0, 0.0, 0.0), (10, 0.2, 0.3), (20, 0.4, 0.5), (30, 0.6, 0.35), (40, 0.8, 0.2)];
        foreach (var (s, p, g) in evals[..3])
            whole.Observe(s, p, g);
        var restored = new RewardHackingMonitor(3, 0.1, 0.1);
        restored.Restore(whole.History.ToList(), whole.First);
        foreach (var (s, p, g) in evals[3..])
            Assert.Equal(whole.Observe(s, p, g), restored.Observe(s, p, g));
        Assert.Equal(40, restored.First!.Step);
        Assert.Equal(whole.First, restored.First);

        // A saved first alarm comes back as the first even when the window fires again.
        var after = new RewardHackingMonitor(3, 0.1, 0.1);
        after.Restore(whole.History.ToList(), new RewardHackingAlarm(40, 20, 0.4, -0.3));
        Assert.NotNull(after.Observe(50, 1.0, 0.1));
        Assert.Equal(40, after.First!.Step);
    }

    [Fact]
    public void RestoringAMalformedHistoryIsRefusedAndNamesTheEvaluation()
    {
        var m = new RewardHackingMonitor(3, 0.1, 0.1);
        var e = Assert.Throws<ArgumentException>(() => m.Restore([(0, 0.0, 0.0), (0, 0.1, 0.1)], null));
        Assert.Contains("step 0 after step 0", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => m.Restore([(0, 0.0, 0.0), (10, double.NaN, 0.1)], null));
        Assert.Contains("evaluation 1 (step 10)", e.Message, StringComparison.Ordinal);
        Assert.Empty(m.History);
    }

    [Fact]
    public void AMalformedCheckpointWindowNamesItsKey()
    {
        var dir = Directory.CreateTempSubdirectory("hacking-state-").FullName;
        try
        {
            using var session = Foundation.TrainingSession.Open(dir, "{}", resume: false);
            var watch = new RewardHackingWatch(new GrpoConfig { RewardFuncs = ["format"] }, session, hasGold: true, hasHeldOut: true);
            var state = new Checkpointing.TrainerState(4);
            state.SetDoubles("reward_hacking_history", [0, 0.1]);
            var e = Assert.Throws<Foundation.TrainingSetupException>(() => watch.Load(state));
            Assert.Contains("'reward_hacking_history' holds 2 numbers", e.Message, StringComparison.Ordinal);
            state.SetDoubles("reward_hacking_history", [2, 0.1, 0.2, 2, 0.3, 0.1]);
            e = Assert.Throws<Foundation.TrainingSetupException>(() => watch.Load(state));
            Assert.Contains("step 2 after step 2", e.Message, StringComparison.Ordinal);
            state.SetDoubles("reward_hacking_history", [2, 0.1, 0.2]);
            state.SetDoubles("reward_hacking_first", [4, 0]);
            e = Assert.Throws<Foundation.TrainingSetupException>(() => watch.Load(state));
            Assert.Contains("'reward_hacking_first' holds 2 numbers", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
