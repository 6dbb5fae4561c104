using System.Net;
using System.Net.Http.Headers;

namespace RlhfSharp.Serving.Tests;

/// <summary><c>rlhf serve</c> on an address that is not loopback: refused unless asked for, and loud when it is.</summary>
public sealed class ServeRemoteBindTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("serve-remote-").FullName;

    public ServeRemoteBindTests() => TinyModel.Write(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public void ANonLoopbackHostIsRefusedWithoutAllowRemote(string host)
    {
        var (code, output, error) = RlhfProcess.Run("serve", "--model", _dir, "--port", "0", "--host", host);

        Assert.Equal(2, code);
        Assert.Contains("--allow_remote", error);
        Assert.Contains("not a loopback address", error);
        Assert.DoesNotContain("listening on", output);
    }

    [Fact]
    public async Task WithAllowRemoteItWarnsAndTheGivenTokenIsRequired()
    {
        const string token = "a-token-given-on-the-command-line";
        using var server = ServeProcess.Start("--model", _dir, "--port", "0", "--host", "0.0.0.0", "--allow_remote", "--token", token);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };

        using var without = await client.GetAsync("/v1/models");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var with = await client.SendAsync(request);

        // Standard error is read on its own pipe: the warning, written before "listening on", may arrive after it.
        Assert.True(SpinWait.SpinUntil(() => server.Stderr.Contains("WARNING: listening on 0.0.0.0", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
            $"no warning on standard error:\n{server.Stderr}");
        Assert.DoesNotContain(token, server.Stdout); // a token the user chose is not printed
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Fact]
    public void AGivenTokenThatIsTooShortIsAUsageError()
    {
        var (code, _, error) = RlhfProcess.Run("serve", "--model", _dir, "--port", "0", "--token", "abc");

        Assert.Equal(2, code);
        Assert.Contains("token must be at least 16", error);
    }
}
