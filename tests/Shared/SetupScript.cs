using System.Diagnostics;

namespace RlhfSharp.TestSupport;

/// <summary>
/// Runs one of the repository's setup scripts (tests/browser-setup.sh, scripts/mpi-setup.sh) when
/// what it installs is missing, once per machine: under a machine-wide lock, so test projects
/// running side by side do not race apt. A failed install fails the test with the script's
/// output; it never skips it.
/// </summary>
public static class SetupScript
{
    /// <summary>Runs <paramref name="script"/> (relative to the repository root) unless <paramref name="installed"/> already holds.</summary>
    public static void Ensure(Func<bool> installed, string script, string needs)
    {
        if (installed())
            return;
        using var lockFile = AcquireLock(Path.Combine(Path.GetTempPath(), $"rlhfsharp-{Path.GetFileNameWithoutExtension(script)}.lock"));
        if (installed())
            return;
        string path = Path.Combine(RepoRoot(), script);
        var psi = new ProcessStartInfo("bash", [path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{path} did not finish in 15 minutes.");
        }
        if (p.ExitCode != 0 || !installed())
            throw new InvalidOperationException($"{path} failed (exit {p.ExitCode}); {needs}.\n{stdout.Result}\n{stderr.Result}");
    }

    /// <summary>The repository root: the nearest ancestor of the test binaries holding RlhfSharp.slnx.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RlhfSharp.slnx")))
                return dir.FullName;
        }
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
