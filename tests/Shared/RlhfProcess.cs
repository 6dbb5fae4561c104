using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RlhfSharp.TestSupport;

/// <summary>
/// The built <c>rlhf</c> program as a separate process, shared by the tests that need a real
/// process: run to completion (<see cref="Run"/>), or started as a server and awaited until it
/// prints its "listening on" line (<see cref="StartServer"/>). Every wait is bounded; dispose (or
/// <see cref="Kill"/>) ends it with SIGKILL.
/// </summary>
public sealed partial class RlhfProcess : IDisposable
{
    /// <summary>The longest a run may take, or a server to start listening.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RlhfProcess(Process process) => _process = process;

    // tests/<project>/bin/<Configuration>/net10.0 -> src/RlhfSharp.Cli/bin/<Configuration>/net10.0/rlhf.dll
    public static string DllPath
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory);
            string framework = here.Name, configuration = here.Parent!.Name;
            var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(root, "src", "RlhfSharp.Cli", "bin", configuration, framework, "rlhf.dll");
            if (!File.Exists(dll))
                throw new FileNotFoundException($"the rlhf program was not built at {dll}", dll);
            return dll;
        }
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234 (a 0.0.0.0 address is given as 127.0.0.1).</summary>
    public Uri Address { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The access token it printed ("access token: ..."), if any.</summary>
    public string? Token => _stdout.Select(l => TokenLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Runs <c>rlhf ARGS</c> to completion (bounded by <see cref="Limit"/>); returns its exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args) => Run(Limit, args);

    /// <summary>Runs <c>rlhf ARGS</c> to completion within <paramref name="limit"/>; returns its exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(TimeSpan limit, params string[] args)
    {
        using var p = Launch(args);
        if (!p._process.WaitForExit(limit))
            throw new TimeoutException($"rlhf {string.Join(' ', args)} did not finish within {limit}; stderr:\n{p.Stderr}");
        p._process.WaitForExit(); // lets the output handlers finish
        return (p._process.ExitCode, p.Stdout, p.Stderr);
    }

    /// <summary>Starts <c>rlhf ARGS</c> and waits (bounded) until it prints "listening on URL".</summary>
    public static RlhfProcess StartServer(params string[] args)
    {
        var p = Launch(args);
        var started = Task.WhenAny(p._listening.Task, Task.Delay(Limit)).GetAwaiter().GetResult();
        if (started != p._listening.Task)
        {
            string output = p.Stdout + "\n" + p.Stderr;
            p.Dispose();
            throw new TimeoutException($"rlhf {string.Join(' ', args)} printed no 'listening on' line within {Limit}; output:\n{output}");
        }
        var address = new UriBuilder(p._listening.Task.GetAwaiter().GetResult());
        if (address.Host == "0.0.0.0")
            address.Host = "127.0.0.1";
        p.Address = address.Uri;
        return p;
    }

    /// <summary>Starts <c>rlhf ARGS</c> without waiting for anything (for runs expected to fail).</summary>
    public static RlhfProcess Launch(params string[] args) => Start("dotnet", [DllPath, .. args]);

    // Starts a program with its output captured line by line.
    private static RlhfProcess Start(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        var p = new RlhfProcess(Process.Start(psi)!);
        p._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
                return;
            p._stdout.Enqueue(line);
            if (Listening().Match(line) is { Success: true } m)
                p._listening.TrySetResult(m.Groups[1].Value);
        };
        p._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                p._stderr.Enqueue(line);
        };
        p._process.BeginOutputReadLine();
        p._process.BeginErrorReadLine();
        return p;
    }

    /// <summary>Waits (bounded) for the process to end; false when it is still running.</summary>
    public bool WaitForExit(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
            return false;
        _process.WaitForExit(); // the process has ended: this only lets the output handlers finish
        return true;
    }

    /// <summary>SIGKILL: the process gets no chance to flush or clean up.</summary>
    public void Kill()
    {
        if (_process.HasExited)
            return;
        _process.Kill(entireProcessTree: true);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            throw new TimeoutException("the killed rlhf process did not exit within 10 s");
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"^listening on (http://\S+)$")]
    private static partial Regex Listening();

    [GeneratedRegex(@"^access token: (\S+)$")]
    private static partial Regex TokenLine();
}
