using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RlhfSharp.Labelling.Tests;

/// <summary>
/// The built <c>rlhf label --judge human</c> running as a separate process: started, awaited until it
/// prints its "listening on" line (with a time limit), and killed (SIGKILL) on <see cref="Kill"/> or dispose.
/// </summary>
internal sealed partial class LabelProcess : IDisposable
{
    public static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LabelProcess(Process process) => _process = process;

    // tests/RlhfSharp.Labelling.Tests/bin/<Configuration>/net10.0 -> src/RlhfSharp.Cli/bin/<Configuration>/net10.0/rlhf.dll
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

    /// <summary>The access token it printed, if any.</summary>
    public string? Token => _stdout.Select(l => TokenLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;

    public string Stdout => string.Join('\n', _stdout);

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Starts <c>rlhf label --judge human</c> with <paramref name="args"/> and waits until it listens.</summary>
    public static LabelProcess Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        psi.ArgumentList.Add("label");
        psi.ArgumentList.Add("--judge");
        psi.ArgumentList.Add("human");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        var server = new LabelProcess(Process.Start(psi)!);
        server._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
                return;
            server._stdout.Enqueue(line);
            if (Listening().Match(line) is { Success: true } m)
                server._listening.TrySetResult(m.Groups[1].Value);
        };
        server._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                server._stderr.Enqueue(line);
        };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        var started = Task.WhenAny(server._listening.Task, Task.Delay(StartLimit)).GetAwaiter().GetResult();
        if (started != server._listening.Task)
        {
            string output = server.Stdout + "\n" + server.Stderr;
            server.Dispose();
            throw new TimeoutException($"rlhf label printed no 'listening on' line within {StartLimit}; output:\n{output}");
        }
        var address = new UriBuilder(server._listening.Task.GetAwaiter().GetResult());
        if (address.Host == "0.0.0.0")
            address.Host = "127.0.0.1";
        server.Address = address.Uri;
        return server;
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
