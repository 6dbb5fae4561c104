using Microsoft.Playwright;

namespace RlhfSharp.TestSupport;

/// <summary>
/// Headless Debian chromium driven by Playwright, shared by the browser tests. The first use
/// installs chromium with tests/browser-setup.sh when it is missing (under a machine-wide lock, so
/// test projects running side by side do not race apt); a failed install fails the test with the
/// script's output, never skips it.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] LaunchArgs = ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"];

    private readonly IPlaywright _playwright;

    public IBrowser Chromium { get; }

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        Chromium = chromium;
    }

    public static async Task<Browser> LaunchAsync()
    {
        EnsureChromium();
        var playwright = await Playwright.CreateAsync();
        try
        {
            var chromium = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = LaunchArgs });
            return new Browser(playwright, chromium);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }

    /// <summary>Runs tests/browser-setup.sh once per machine when chromium is missing.</summary>
    public static void EnsureChromium() =>
        SetupScript.Ensure(() => File.Exists(ChromiumPath), Path.Combine("tests", "browser-setup.sh"), $"the browser tests need {ChromiumPath}");
}
