using Microsoft.Playwright;
using RlhfSharp.Cli.Reporting;
using RlhfSharp.TestSupport;

namespace RlhfSharp.Report.Tests;

/// <summary>report.html in headless Chromium: it renders its charts, and asks the network for nothing.</summary>
public sealed class ReportBrowserTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-browser-").FullName;
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ReportRendersItsChartsWithoutAnyRequestOrConsoleError()
    {
        var report = ReportPage.Write(FakeRuns.Pipeline(Path.Combine(_dir, "pipe")));
        var pageUrl = new Uri(report).AbsoluteUri;
        var page = await _browser.Chromium.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var requests = new List<string>();
        var errors = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
                errors.Add($"{m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => errors.Add("page error: " + e);
        // Anything but the page itself is refused, and counted above.
        await page.RouteAsync("**/*", route => route.Request.Url == pageUrl ? route.ContinueAsync() : route.AbortAsync());

        await page.GotoAsync(pageUrl, new() { WaitUntil = WaitUntilState.Load });
        var shot = Path.Combine(_dir, "report.png");
        var png = await page.ScreenshotAsync(new() { FullPage = true, Path = shot });

        Assert.True(png.Length > 10_000, $"screenshot of {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Equal([pageUrl], requests);
        Assert.Empty(errors);

        // Every chart is laid out with a size and draws something: a line of positive length or a dot.
        var charts = await page.EvaluateAsync<double[][]>("""
            () => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
              const box = svg.getBoundingClientRect();
              const visible = svg.closest('details:not([open])') === null ? 1 : 0;
              const length = Array.from(svg.querySelectorAll('g.series path')).reduce((sum, p) => sum + p.getTotalLength(), 0);
              return [visible, box.width, box.height, length, svg.querySelectorAll('g.series circle').length];
            })
            """);
        Assert.True(charts.Length >= 20, $"{charts.Length} charts");
        foreach (var c in charts)
        {
            if (c[0] == 1)
                Assert.True(c[1] > 100 && c[2] > 100, $"a chart of {c[1]}x{c[2]} px");
            Assert.True(c[3] > 0 || c[4] > 0, "a chart with nothing drawn");
        }
        // The results table and the side-by-side responses are there as text.
        var text = await page.InnerTextAsync("body");
        Assert.Contains("win rate vs SFT", text);
        Assert.Contains("It is 5. <script>alert('x')</script>", text);
    }
}
