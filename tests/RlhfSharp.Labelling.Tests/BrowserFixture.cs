using Microsoft.Playwright;

namespace RlhfSharp.Labelling.Tests;

/// <summary>One headless chromium for the browser tests of a class.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private Browser? _browser;

    public IBrowser Chromium => (_browser ?? throw new InvalidOperationException("the browser is not started")).Chromium;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
    }
}

/// <summary>What the browser tests do on the labelling page.</summary>
internal static class LabelPage
{
    /// <summary>Bounded wait for any one step of the page (loading a pair, saving a label).</summary>
    public const float StepTimeoutMs = 30_000;

    /// <summary>Opens the page for <paramref name="labeller"/> in a fresh context.</summary>
    public static async Task<IPage> OpenAsync(IBrowser browser, Uri address, string labeller)
    {
        var context = await browser.NewContextAsync();
        context.SetDefaultTimeout(StepTimeoutMs);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(address, "/?labeller=" + Uri.EscapeDataString(labeller)).ToString());
        return page;
    }

    /// <summary>
    /// Waits until the page shows a pair other than <paramref name="previous"/> (its id) or has
    /// nothing left for this labeller (null). A "waiting" page (pairs held by others) is waited out.
    /// </summary>
    public static async Task<string?> NextItemAsync(IPage page, string? previous)
    {
        await page.WaitForFunctionAsync(
            "prev => { const s = document.body.dataset.state; const id = document.getElementById('work').dataset.item; return (s === 'ready' && id !== prev) || s === 'done'; }",
            previous ?? "", new() { Timeout = StepTimeoutMs, PollingInterval = 50 });
        return await page.EvaluateAsync<string?>("() => document.body.dataset.state === 'ready' ? document.getElementById('work').dataset.item : null");
    }

    /// <summary>The texts shown on the left and on the right.</summary>
    public static async Task<(string Left, string Right)> TextsAsync(IPage page) =>
        ((await page.TextContentAsync("#left-text"))!, (await page.TextContentAsync("#right-text"))!);

    public static Task<string> StateAsync(IPage page) => page.EvaluateAsync<string>("() => document.body.dataset.state");
}
