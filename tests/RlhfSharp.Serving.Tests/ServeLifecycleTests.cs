using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RlhfSharp.Serving.Tests;

/// <summary>Starting and stopping <c>rlhf serve</c> processes of their own.</summary>
public sealed partial class ServeLifecycleTests : IDisposable
{
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("serve-life-").FullName;

    public ServeLifecycleTests() => TinyModel.Write(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SigtermStopsTheServerCleanly()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return; // SIGTERM is a POSIX signal
        using var server = ServeProcess.Start("--model", _dir, "--port", "0");
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.Token);
        using var before = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        Assert.Equal(0, Kill(server.Id, SigTerm));

        Assert.True(server.WaitForExit(ExitLimit), "the server did not stop within a minute of SIGTERM");
        Assert.Equal(0, server.ExitCode);
        Assert.Contains("stopped", server.Stderr);
    }

    [Fact]
    public void APortInUseIsAUsageErrorNamingThePort()
    {
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            int port = ((IPEndPoint)holder.LocalEndpoint).Port;
            using var server = ServeProcess.Launch("--model", _dir, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

            Assert.True(server.WaitForExit(ExitLimit), "rlhf serve kept running on a port in use");
            Assert.Equal(2, server.ExitCode);
            Assert.Contains($"cannot listen on 127.0.0.1:{port}", server.Stderr);
        }
        finally
        {
            holder.Stop();
        }
    }

    [Fact]
    public void AMissingModelFolderIsAUsageError()
    {
        using var server = ServeProcess.Launch("--model", Path.Combine(_dir, "nope"), "--port", "0");

        Assert.True(server.WaitForExit(ExitLimit), "rlhf serve kept running without a model");
        Assert.Equal(2, server.ExitCode);
        Assert.Contains("model folder not found", server.Stderr);
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
