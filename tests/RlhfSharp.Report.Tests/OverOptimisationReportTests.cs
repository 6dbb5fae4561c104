using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RlhfSharp.Cli.Reporting;

namespace RlhfSharp.Report.Tests;

/// <summary>An RL stage's over-optimisation curve (gold and proxy against √KL) and the reward-hacking banner, in the report and the dashboard's body.</summary>
public sealed class OverOptimisationReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("overopt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string AlarmText = "reward hacking at step 40: from step 20 the proxy reward (eval/score) rose by +0.400 while the gold score fell by 0.500 (on_reward_hacking: warn, the run goes on)";

    // Gold rises to its peak at step 20 (√KL 1) and falls while the proxy keeps rising.
    private string Grpo(bool finished, bool alarmInLog)
    {
        double[] kl = [0, 0.25, 1, 2.25, 4], proxy = [0.1, 0.3, 0.5, 0.7, 0.9], gold = [-0.5, -0.2, 0.1, -0.1, -0.4];
        var lines = new List<string>();
        for (int i = 0; i < kl.Length; i++)
        {
            if (i > 0)
                lines.Add(FakeRuns.Line(i * 10, ("reward", proxy[i]), ("kl", kl[i] / 10)));
            lines.Add(FakeRuns.Line(i * 10, ("eval/score", proxy[i]), ("eval/gold_score", gold[i]), ("eval/kl_to_ref", kl[i]), ("eval/sqrt_kl", Math.Sqrt(kl[i]))));
        }
        lines[^1] = lines[^1][..^1] + ", \"eval/reward_hacking\": 1}";
        string[] samples = alarmInLog ? [new JsonObject { ["step"] = 40, ["time"] = 1.0, ["tag"] = "reward_hacking", ["text"] = AlarmText }.ToJsonString()] : [];
        var dir = FakeRuns.Stage(_dir, "grpo", lines, finished, samples);
        if (finished)
        {
            File.WriteAllText(Path.Combine(dir, "summary.json"), """
                {"stage": "grpo", "steps": 40, "reward_hacking": {"step": 40, "from_step": 20, "proxy_change": 0.4, "gold_change": -0.5, "action": "warn", "stopped": false}}
                """);
        }
        return dir;
    }

    private static string Render(string dir) => ReportPage.Render(RunData.Load(dir), new ReportOptions());

    private static string Figure(string html, string id)
    {
        int start = html.IndexOf($"<figure id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no figure {id}");
        return html[start..(html.IndexOf("</figure>", start, StringComparison.Ordinal) + 9)];
    }

    [Fact]
    public void TheCurveShowsGoldAndProxyAgainstSqrtKlAndWhereGoldPeaked()
    {
        var html = Render(Grpo(finished: true, alarmInLog: true));
        var figure = Figure(html, "chart-grpo-overoptimisation");
        Assert.Contains("√KL to the reference (eval/sqrt_kl)", figure);
        Assert.Contains("eval/gold_score (left axis)", figure);
        Assert.Contains("eval/score, the proxy (right axis)", figure);
        // One dot per evaluation on each curve, joined in step order.
        foreach (var metric in new[] { "eval/gold_score", "eval/score" })
        {
            var series = Regex.Match(figure, $"<g class=\"series\" data-metric=\"{Regex.Escape(metric)}\">.*?</g>").Value;
            Assert.Equal(5, Regex.Count(series, "<circle"));
            Assert.Contains("<title>step 40</title>", series);
        }
        // The x axis runs 0..2 (ticks 0.5 apart) over 64..536: the peak at √KL 1 is drawn at x = 300.
        Assert.Contains("<line class=\"peak\" x1=\"300.0\"", figure);
        Assert.Contains("Gold peaked at √KL 1.00 (step 20): gold 0.100, proxy 0.500; latest (step 40, √KL 2.00): gold -0.400, proxy 0.900.", figure);
        // The KL itself also has a chart over steps.
        Assert.Contains("id=\"chart-grpo-heldout-kl\"", html);
    }

    [Fact]
    public void TheBannerSaysWhenTheAlarmFired()
    {
        var html = Render(Grpo(finished: true, alarmInLog: true));
        Assert.Contains("<div class=\"alarm\" role=\"alert\" id=\"alarm-grpo\"><strong>Reward-hacking alarm.</strong> " + AlarmText + ".", html);
        // From summary.json alone (no text log) the banner still names the step and the numbers.
        Directory.Delete(Path.Combine(_dir, "grpo"), recursive: true);
        html = Render(Grpo(finished: true, alarmInLog: false));
        Assert.Contains("reward hacking at step 40: the proxy reward changed by +0.400 while the gold score changed by -0.500", html);
    }

    [Fact]
    public void TheDashboardBodyOfARunningStageHasTheBannerAndTheCurve()
    {
        // What the dashboard serves while the run writes: no summary.json yet, the alarm in the text log.
        var body = ReportPage.RenderBody(RunData.Load(Grpo(finished: false, alarmInLog: true), allowEmpty: true), new ReportOptions { Live = true });
        Assert.Contains("id=\"alarm-grpo\"", body);
        Assert.Contains(AlarmText, body);
        Assert.Contains("id=\"chart-grpo-overoptimisation\"", body);
        // Before the alarm, the metric alone is enough.
        Directory.Delete(Path.Combine(_dir, "grpo"), recursive: true);
        body = ReportPage.RenderBody(RunData.Load(Grpo(finished: false, alarmInLog: false), allowEmpty: true), new ReportOptions { Live = true });
        Assert.Contains("reward hacking at step 40.", body);
    }

    [Fact]
    public void WithoutGoldThereIsNoCurveAndNoBanner()
    {
        var dir = FakeRuns.Stage(_dir, "ppo", [
            FakeRuns.Line(0, ("eval/score", 0.1), ("eval/kl_to_ref", 0), ("eval/sqrt_kl", 0)),
            FakeRuns.Line(10, ("eval/score", 0.5), ("eval/kl_to_ref", 1), ("eval/sqrt_kl", 1)),
        ], finished: true);
        var html = Render(dir);
        Assert.DoesNotContain("overoptimisation", html);
        Assert.DoesNotContain("class=\"alarm\"", html);
    }

    [Fact]
    public void PointsJoinTheThreeMetricsByStepAndSkipNonFiniteOnes()
    {
        var dir = FakeRuns.Stage(_dir, "rl", [
            FakeRuns.Line(0, ("eval/score", 0.1), ("eval/gold_score", 0.2), ("eval/sqrt_kl", 0)),
            FakeRuns.Line(5, ("eval/score", 0.3)), // a step without gold or KL
            FakeRuns.Line(10, ("eval/score", 0.4), ("eval/gold_score", double.NaN), ("eval/sqrt_kl", 1)),
            FakeRuns.Line(20, ("eval/score", 0.6), ("eval/gold_score", 0.1), ("eval/sqrt_kl", 2)),
            FakeRuns.Line(20, ("eval/score", 0.7)), // the last value at a step counts
        ], finished: false);
        var points = OverOptimisationChart.Points(RunData.Load(dir, allowEmpty: true).Stages.Single().Metrics);
        Assert.Equal([new OverOptimisationPoint(0, 0, 0.1, 0.2), new OverOptimisationPoint(20, 2, 0.7, 0.1)], points);
        Assert.Equal(0, OverOptimisationChart.Peak(points).Step);
    }
}
