using System.Diagnostics;

namespace RlhfSharp.TestSupport;

/// <summary>
/// A tiny real filesystem (tmpfs) mounted on a fresh temporary folder, to run writers into a full
/// disk. Mounting needs root (or CAP_SYS_ADMIN, or sudo without a password); where it fails the constructor throws saying so,
/// so a test using it fails loudly instead of passing without having checked anything.
/// </summary>
public sealed class TinyDisk : IDisposable
{
    private readonly string _filler;

    public TinyDisk(int kilobytes = 256)
    {
        Root = Directory.CreateTempSubdirectory("tinydisk-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Root);
        if (code != 0)
        {
            Directory.Delete(Root);
            throw new InvalidOperationException(
                $"this full-disk test mounts a {kilobytes} KiB tmpfs on {Root} and `mount` failed (exit {code}: {output.Trim()}); " +
                "run the tests as root or with CAP_SYS_ADMIN so a small filesystem can be mounted");
        }
        _filler = Path.Combine(Root, ".filler");
    }

    /// <summary>The mount point.</summary>
    public string Root { get; }

    /// <summary>Fills the filesystem until a write fails for lack of space, then frees <paramref name="leaveBytes"/>.</summary>
    public void Fill(long leaveBytes = 0)
    {
        var chunk = new byte[4096];
        using var fs = new FileStream(_filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
                fs.Write(chunk);
        }
        catch (IOException)
        {
            // full
        }
        fs.SetLength(Math.Max(0, fs.Length - leaveBytes));
    }

    /// <summary>Removes the filler so the space is free again.</summary>
    public void Free() => File.Delete(_filler);

    /// <summary>Every file under <paramref name="dir"/> (relative path) with its bytes.</summary>
    public static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".filler", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    public void Dispose()
    {
        var (code, output) = Run("umount", Root);
        if (code != 0)
        {
            // A file still open there (a test that failed before closing it) keeps the mount busy:
            // detach it anyway so no mount outlives the test, and say so.
            if (Run("umount", "-l", Root).Code == 0)
                Directory.Delete(Root);
            throw new InvalidOperationException($"umount {Root} failed (exit {code}): {output.Trim()}; detached it lazily instead");
        }
        Directory.Delete(Root);
    }

    // mount and umount need root: a test run by another user goes through sudo when it may without a password.
    private static (int Code, string Output) Run(string file, params string[] args)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            args = ["-n", file, .. args];
            file = "sudo";
        }
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"cannot start {file}: {e.Message}");
        }
    }
}
