using System.Diagnostics;
using System.Text;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// <c>rlhf chat</c> as a child process driven through its standard input, with its output read
/// character by character (replies stream without line breaks). Every wait is bounded.
/// </summary>
internal sealed class ChatProcess : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;

    private ChatProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(Pump(process.StandardOutput, _stdout), Pump(process.StandardError, _stderr));
    }

    public static ChatProcess Start(params string[] args)
    {
        // A test run started in the background of a non-interactive shell (`cmd &`) ignores SIGINT,
        // and a child inherits that, so Ctrl+C would never reach the chat. Perl (always on Debian)
        // puts the default action back before it becomes the chat process (exec keeps the PID).
        bool resetSigint = SigintIgnored();
        var psi = new ProcessStartInfo(resetSigint ? "perl" : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        if (resetSigint)
        {
            foreach (var a in new[] { "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\";", "dotnet" })
                psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(RlhfProcess.DllPath);
        psi.ArgumentList.Add("chat");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        return new ChatProcess(Process.Start(psi)!);
    }

    // Whether this process ignores SIGINT (signal 2: bit 1 of /proc's SigIgn mask).
    private static bool SigintIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    public int ExitCode => _process.ExitCode;

    public void Send(string line)
    {
        _process.StandardInput.Write(line + "\n");
        _process.StandardInput.Flush();
    }

    /// <summary>Closes standard input: the end of input ends the session.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>SIGINT, as Ctrl+C in a terminal sends.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits (bounded) until standard output satisfies <paramref name="done"/>.</summary>
    public void WaitForOutput(Func<string, bool> done, string what) => WaitFor(() => done(Stdout), what);

    /// <summary>Waits (bounded) until standard error contains <paramref name="text"/>.</summary>
    public void WaitForError(string text) => WaitFor(() => Stderr.Contains(text, StringComparison.Ordinal), $"'{text}' on standard error");

    /// <summary>Waits (bounded) for the process to end and its output to be read.</summary>
    public void WaitForExit()
    {
        if (!_process.WaitForExit(Limit))
            throw new TimeoutException($"rlhf chat did not end within {Limit}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        _pumps.Wait(Limit);
    }

    private void WaitFor(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!done())
        {
            if (DateTime.UtcNow > deadline || _process.HasExited && !done())
            {
                if (_process.HasExited)
                    _pumps.Wait(TimeSpan.FromSeconds(5));
                if (done())
                    return;
                throw new TimeoutException($"rlhf chat: no {what} within {Limit} (exited: {_process.HasExited}); stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
            Thread.Sleep(10);
        }
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[256];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
                into.Append(buffer, 0, n);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
