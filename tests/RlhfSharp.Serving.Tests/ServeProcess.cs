using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// The built <c>rlhf serve</c> running as a separate process: started, awaited until it prints its
/// "listening on" line (with a time limit), and killed on dispose.
/// </summary>
internal sealed partial class ServeProcess : IDisposable
{
    public static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process) => _process = process;

    // tests/RlhfSharp.Serving.Tests/bin/<Configuration>/net10.0 -> src/RlhfSharp.Cli/bin/<Configuration>/net10.0/rlhf.dll
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

    /// <summary>The server's address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the server wrote to standard error so far.</summary>
    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Starts <c>rlhf serve</c> with <paramref name="args"/> and waits until it listens.</summary>
    public static ServeProcess Start(params string[] args)
    {
        var server = Launch(args);
        var started = Task.WhenAny(server._listening.Task, Task.Delay(StartLimit)).GetAwaiter().GetResult();
        if (started != server._listening.Task)
        {
            string stderr = server.Stderr;
            server.Dispose();
            throw new TimeoutException($"rlhf serve printed no 'listening on' line within {StartLimit}; stderr:\n{stderr}");
        }
        server.Address = new Uri(server._listening.Task.GetAwaiter().GetResult());
        return server;
    }

    /// <summary>Starts <c>rlhf serve</c> without waiting for it to listen (for runs expected to fail).</summary>
    public static ServeProcess Launch(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        psi.ArgumentList.Add("serve");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        var server = new ServeProcess(Process.Start(psi)!);
        server._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && Listening().Match(line) is { Success: true } m)
                server._listening.TrySetResult(m.Groups[1].Value);
        };
        server._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                server._stderr.Enqueue(line);
        };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits (bounded) for the process to end; false when it is still running.</summary>
    public bool WaitForExit(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
            return false;
        _process.WaitForExit(); // the process has ended: this only lets the output handlers finish
        return true;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"^listening on (http://\S+)$")]
    private static partial Regex Listening();
}
