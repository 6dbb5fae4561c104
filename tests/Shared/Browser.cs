using System.Diagnostics;
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
    public static void EnsureChromium()
    {
        if (File.Exists(ChromiumPath)) return;
        using var lockFile = AcquireLock(Path.Combine(Path.GetTempPath(), "rlhfsharp-browser-setup.lock"));
        if (File.Exists(ChromiumPath)) return;
        string script = Path.Combine(RepoRoot(), "tests", "browser-setup.sh");
        var psi = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} did not finish in 15 minutes.");
        }
        if (p.ExitCode != 0 || !File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{script} failed (exit {p.ExitCode}); the browser tests need {ChromiumPath}.\n{stdout.Result}\n{stderr.Result}");
    }

    /// <summary>The repository root: the nearest ancestor of the test binaries holding RlhfSharp.slnx.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RlhfSharp.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no RlhfSharp.slnx above {AppContext.BaseDirectory}");
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(20);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }
}
