using System.Net;
using Microsoft.Playwright;
using RlhfSharp.TestSupport;

namespace RlhfSharp.Report.Tests;

/// <summary>
/// <c>rlhf dashboard</c> as a real process, its page in headless Chromium, while the test plays the
/// part of a running pipeline by appending to metrics.jsonl and starting a new stage folder.
/// </summary>
public sealed class DashboardTests : IAsyncLifetime
{
    // How long the page may take to show what was appended (it asks every 200 ms); a bound, not a measurement.
    private const float ShowLimitMs = 10_000;

    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-").FullName;
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ThePageFollowsTheRunAsItWritesMetrics()
    {
        var run = Path.Combine(_dir, "pipe");
        var sft = FakeRuns.Stage(run, "sft", Enumerable.Range(1, 10).Select(s => FakeRuns.Line(s, ("train/loss", 3.0 / s))), finished: false);
        var metrics = Path.Combine(sft, "metrics.jsonl");
        using var server = RlhfProcess.StartServer("dashboard", run, "--port", "0", "--refresh_ms", "200");
        Assert.Equal(IPAddress.Loopback.ToString(), server.Address.Host);
        string token = server.Token ?? throw new InvalidOperationException($"no access token printed:\n{server.Stdout}");
        string link = $"{server.Address.AbsoluteUri}?token={token}";
        Assert.Contains($"open {link}", server.Stdout);

        var page = await _browser.Chromium.NewPageAsync();
        var errors = new List<string>();
        var foreign = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
                errors.Add($"{m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => errors.Add("page error: " + e);
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(server.Address.AbsoluteUri, StringComparison.Ordinal))
                foreign.Add(r.Url);
        };

        await page.GotoAsync(link, new() { WaitUntil = WaitUntilState.Load });
        Assert.Contains("live:", await page.InnerTextAsync("#live-status"));
        var drawn = await page.EvaluateAsync<double[]>("""
            () => { const p = document.querySelector('#chart-sft-loss g.series path'); const b = document.querySelector('#chart-sft-loss svg').getBoundingClientRect();
                    return [p ? p.getTotalLength() : 0, b.width, b.height]; }
            """);
        Assert.True(drawn[0] > 0 && drawn[1] > 100 && drawn[2] > 100, $"sft loss chart: path length {drawn[0]}, {drawn[1]}x{drawn[2]} px");
        Assert.Contains("train/loss: 0.3 @ 10", await page.TextContentAsync("#chart-sft-loss"));

        // A new metrics line shows up in the chart's legend, and the line gets longer.
        File.AppendAllText(metrics, FakeRuns.Line(11, ("train/loss", 7.654321)) + "\n");
        await page.WaitForFunctionAsync("() => document.getElementById('report').textContent.includes('train/loss: 7.654 @ 11')", null, new() { Timeout = ShowLimitMs });
        var longer = await page.EvaluateAsync<double>("() => document.querySelector('#chart-sft-loss g.series path').getTotalLength()");
        Assert.True(longer > drawn[0], $"the loss line is {longer} long, was {drawn[0]}");

        // The next stage starts: its section appears.
        FakeRuns.Stage(run, "rm", [FakeRuns.Line(1, ("train/loss", 0.69), ("train/accuracy", 0.5))], finished: false);
        await page.WaitForSelectorAsync("#stage-rm #chart-rm-accuracy svg.chart", new() { Timeout = ShowLimitMs });

        // A broken line is reported on the page (file and line), not thrown at the console.
        int lines = File.ReadAllLines(metrics).Length;
        File.AppendAllText(metrics, "this is not JSON\n");
        await page.WaitForFunctionAsync($"() => document.getElementById('live-status').textContent.includes('metrics.jsonl:{lines + 1}: not valid JSON')", null, new() { Timeout = ShowLimitMs });

        await page.CloseAsync();
        Assert.Empty(errors);
        Assert.Empty(foreign);
    }

    [Fact]
    public void AMissingRunFolderStopsTheDashboardWithAMessage()
    {
        var (code, _, err) = RlhfProcess.Run("dashboard", Path.Combine(_dir, "nope"), "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("run folder not found", err);
    }
}
