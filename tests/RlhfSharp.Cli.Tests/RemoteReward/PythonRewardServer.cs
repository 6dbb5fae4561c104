using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// reward_server.py, a reward server in OpenRLHF's protocol that is not our code, as a child
/// process on a free loopback port. python3 is installed by scripts/python-setup.sh when missing;
/// a failed install fails the test.
/// </summary>
internal sealed partial class PythonRewardServer : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private PythonRewardServer(Process process, string log)
    {
        _process = process;
        LogPath = log;
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The JSON lines file of requests and the rewards returned for them.</summary>
    public string LogPath { get; }

    /// <summary>Every request it answered, in order: query, prompts, labels and the rewards it returned.</summary>
    public List<JsonObject> Requests() => File.Exists(LogPath)
        ? [.. File.ReadAllLines(LogPath).Select(l => JsonNode.Parse(l)!.AsObject())]
        : [];

    public static PythonRewardServer Start(string dir, string? token = null)
    {
        SetupScript.Ensure(() => OnPath("python3"), Path.Combine("scripts", "python-setup.sh"), "the remote reward tests need python3");
        string script = Path.Combine(AppContext.BaseDirectory, "RemoteReward", "reward_server.py");
        string log = Path.Combine(dir, "reward_requests.jsonl");
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-u", script, "--port", "0", "--log", log])
            psi.ArgumentList.Add(a);
        if (token is not null)
        {
            psi.ArgumentList.Add("--token");
            psi.ArgumentList.Add(token);
        }
        var server = new PythonRewardServer(Process.Start(psi)!, log);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
                return;
            server._output.Enqueue(line);
            if (Listening().Match(line) is { Success: true } m)
                listening.TrySetResult(m.Groups[1].Value);
        };
        server._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                server._output.Enqueue(line);
        };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            server.Dispose();
            throw new TimeoutException($"reward_server.py printed no 'listening on' line within 30 s; output:\n{string.Join('\n', server._output)}");
        }
        server.Address = new Uri(listening.Task.Result);
        return server;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));

    [GeneratedRegex(@"^listening on (http://\S+)$")]
    private static partial Regex Listening();
}
