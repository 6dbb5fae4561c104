using System.Text.RegularExpressions;
using RlhfSharp.Cli.Reporting;

namespace RlhfSharp.Report.Tests;

/// <summary>The report page made from hand-written run folders: its parts, its escaping, its determinism.</summary>
public sealed partial class ReportPageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-page-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Render(string dir) => ReportPage.Render(RunData.Load(dir), new ReportOptions());

    [Fact]
    public void APipelineReportHasEveryStageTheResultsAndTheResponsesSideBySide()
    {
        var html = Render(FakeRuns.Pipeline(Path.Combine(_dir, "pipe")));
        foreach (var stage in new[] { "sft", "rm", "ppo", "dpo", "grpo" })
            Assert.Contains($"<section class=\"stage\" id=\"stage-{stage}\">", html);
        // The charts the issue asks for, by their metrics.
        Assert.Contains("id=\"chart-sft-loss\"", html);
        Assert.Contains("id=\"chart-rm-accuracy\"", html);
        Assert.Contains("id=\"chart-ppo-ppo-score\"", html);
        Assert.Contains("id=\"chart-ppo-clipfrac\"", html);
        Assert.Contains("id=\"chart-ppo-entropy\"", html);
        Assert.Contains("id=\"chart-ppo-length\"", html);
        Assert.Contains("id=\"chart-dpo-rewards\"", html);
        Assert.Contains("id=\"chart-grpo-grpo-reward\"", html);
        // PPO's proxy score, gold score and KL share a panel; the KL coefficient has the panel below.
        var ppo = Figure(html, "chart-ppo-ppo-score");
        Assert.Equal(2, Regex.Count(ppo, "<g class=\"panel\">"));
        foreach (var metric in new[] { "objective/scores", "objective/gold_score", "objective/kl", "objective/kl_coef" })
            Assert.Contains($"data-metric=\"{metric}\"", ppo);
        Assert.Contains("objective/kl_coef (below): 0.075 @ 25", ppo);

        Assert.Contains("<table class=\"results\">", html);
        Assert.Contains("<tr><th scope=\"row\">ppo</th><td>0.610</td><td>0.640</td><td>2.30</td><td>7.5</td><td>60</td></tr>", html);
        Assert.Contains("<tr><th scope=\"row\">sft</th><td>0.500</td><td>—</td>", html);
        Assert.Contains("Reward model held-out accuracy: 0.710", html);
        Assert.Contains("<table class=\"samples\"><thead><tr><th>prompt</th><th>sft</th><th>ppo</th><th>dpo</th><th>grpo</th></tr>", html);
        Assert.Contains("<div class=\"gold\">gold 0.90</div>", html);
    }

    [Fact]
    public void ModelTextIsShownAsTextNeverAsMarkup()
    {
        var html = Render(FakeRuns.Pipeline(Path.Combine(_dir, "pipe")));
        Assert.Contains("It is 5. &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        Assert.Contains("&lt;img src=&quot;http://example.com/x.png&quot;&gt;", html);
        Assert.Contains("What is 7 + 5? =&gt; &lt;b&gt;12&lt;/b&gt; &amp; more", html); // the stage's text log
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
    }

    [Fact]
    public void TheFileReportIsSelfContained()
    {
        var html = Render(FakeRuns.Pipeline(Path.Combine(_dir, "pipe")));
        // Nothing to fetch: no script, stylesheet, image, frame or font; links only to its own sections.
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link rel=\"stylesheet\"", html);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("url(", html);
        foreach (Match m in Attribute().Matches(html))
            Assert.True(m.Groups[2].Value.StartsWith('#') || m.Groups[2].Value == "data:,", $"{m.Value} points outside the page");
    }

    [Fact]
    public void TheSameFilesGiveTheSameBytes()
    {
        var dir = FakeRuns.Pipeline(Path.Combine(_dir, "pipe"));
        var first = Render(dir);
        Assert.Equal(first, Render(dir));
        var a = ReportPage.Write(dir, Path.Combine(_dir, "a.html"));
        var b = ReportPage.Write(dir, Path.Combine(_dir, "b.html"));
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(first, File.ReadAllText(a));
    }

    [Fact]
    public void ASingleStageRunFolderShowsWhateverItLogged()
    {
        var dir = FakeRuns.Stage(_dir, "custom-run", [
            FakeRuns.Line(1, ("train/loss", 2.0), ("my/metric", 5)),
            FakeRuns.Line(2, ("train/loss", 1.0), ("my/metric", 6)),
            FakeRuns.Line(3, ("my/metric", double.NaN)),
        ], finished: false);
        var html = Render(dir);
        Assert.Contains("Run folder of one stage.", html);
        Assert.Contains("id=\"chart-custom-run-loss\"", html);
        // A metric no chart knows is drawn on its own under "other metrics".
        Assert.Contains("<summary>Other metrics (1)</summary>", html);
        Assert.Contains("id=\"chart-custom-run-m-my-metric\"", html);
        Assert.Contains("my/metric: NaN @ 3", html);
        Assert.Contains("no summary.json yet", html);
        Assert.DoesNotContain("id=\"results\"", html);
        Assert.DoesNotContain("id=\"samples\"", html);
    }

    [Fact]
    public void APipelineWithoutGoldShowsDashes()
    {
        var dir = FakeRuns.Pipeline(Path.Combine(_dir, "pipe"));
        File.WriteAllText(Path.Combine(dir, "results.json"), """
            {"stage": "pipeline", "gold_scorer": false, "policies": [
              {"policy": "sft", "eval/gold_score": null, "eval/win_rate_vs_sft": null, "eval/kl_to_sft": 0, "eval/response_words": 5, "time/total_s": 3},
              {"policy": "ppo", "eval/gold_score": null, "eval/win_rate_vs_sft": null, "eval/kl_to_sft": 1.5, "eval/response_words": 4, "time/total_s": 9}],
             "time/stages_s": {"sft": 3, "ppo": 9}}
            """);
        var html = Render(dir);
        Assert.Contains("<tr><th scope=\"row\">ppo</th><td>—</td><td>—</td><td>1.50</td><td>4.0</td><td>9</td></tr>", html);
        Assert.Contains("The data has no gold scorer", html);
        Assert.Contains("Reward model held-out accuracy: —", html);
    }

    [Fact]
    public void ChartsDrawEveryFiniteRunOfPointsAndGapsAtNonFiniteValues()
    {
        var dir = FakeRuns.Stage(_dir, "gaps", [
            FakeRuns.Line(1, ("train/loss", 2.0)),
            FakeRuns.Line(2, ("train/loss", 1.5)),
            FakeRuns.Line(3, ("train/loss", double.PositiveInfinity)),
            FakeRuns.Line(4, ("train/loss", 1.0)),
            FakeRuns.Line(5, ("train/loss", 0.5)),
        ], finished: true);
        var figure = Figure(Render(dir), "chart-gaps-loss");
        var d = PathData().Match(figure).Groups[1].Value;
        Assert.Equal(2, Regex.Count(d, "M")); // two runs of points
        Assert.Equal(2, Regex.Count(d, "L"));
        Assert.Equal(4, Regex.Count(figure, "<circle"));
        Assert.Contains(">step</text>", figure);
        Assert.Matches(">0\\.5</text>|>0\\.50</text>", figure); // a y tick at a round number
    }

    private static string Figure(string html, string id)
    {
        int start = html.IndexOf($"<figure id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no figure {id}");
        return html[start..(html.IndexOf("</figure>", start, StringComparison.Ordinal) + 9)];
    }

    [GeneratedRegex("\\b(href|src|action|xlink:href)=\"([^\"]*)\"")]
    private static partial Regex Attribute();

    [GeneratedRegex("<path d=\"([^\"]*)\"")]
    private static partial Regex PathData();
}
