using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RlhfSharp.Report.Tests;

/// <summary>
/// Who may talk to a real <c>rlhf dashboard</c> process: its access token (the printed link, the
/// cookie it sets, or a Bearer header), the Host and Origin checks, JSON-only bodies, and the
/// headers that keep the page to itself.
/// </summary>
public sealed partial class DashboardAccessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-access-").FullName;
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private RlhfProcess Start(params string[] args)
    {
        var run = Path.Combine(_dir, "pipe");
        FakeRuns.Stage(run, "sft", Enumerable.Range(1, 5).Select(s => FakeRuns.Line(s, ("train/loss", 3.0 / s))), finished: false);
        return RlhfProcess.StartServer(["dashboard", run, "--port", "0", .. args]);
    }

    private async Task<HttpResponseMessage> Send(Uri root, HttpMethod method, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(root, path));
        configure?.Invoke(request);
        return await _http.SendAsync(request);
    }

    private static async Task AssertRefused(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonNode.Parse(text)!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithoutTheTokenEveryPathIs401AndTheLinkOpensThePage()
    {
        using var server = Start();
        string token = server.Token ?? throw new InvalidOperationException($"no access token printed:\n{server.Stdout}");
        string cookie = $"rlhf_dashboard_token_{server.Address.Port}";
        var wrongCredentials = new Func<string, Action<HttpRequestMessage>?>[]
        {
            _ => null,
            _ => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token[..^1]),
            _ => r => r.Headers.Add("Cookie", $"{cookie}={token}x"),
            _ => r => r.Headers.Add("Cookie", $"rlhf_dashboard_token_{server.Address.Port + 1}={token}"), // another server's cookie
            path => r => r.RequestUri = new Uri(r.RequestUri! + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "token=" + token[1..]),
        };
        foreach (string path in new[] { "/", "/api/report?since=0", "/favicon.ico", "/nope" })
        {
            foreach (var credentials in wrongCredentials)
            {
                using var response = await Send(server.Address, HttpMethod.Get, path, credentials(path));
                await AssertRefused(response, HttpStatusCode.Unauthorized, "unauthorized");
                Assert.False(response.Headers.Contains("Set-Cookie"), $"{path}: a refused request set a cookie");
            }
        }

        using var page = await Send(server.Address, HttpMethod.Get, $"/?token={token}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("RLHF report", await page.Content.ReadAsStringAsync());
        string setCookie = page.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"{cookie}={token}", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);

        using var byCookie = await Send(server.Address, HttpMethod.Get, "/api/report?since=0", r => r.Headers.Add("Cookie", $"{cookie}={token}"));
        using var byBearer = await Send(server.Address, HttpMethod.Get, "/api/report?since=0", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        // A since that is not even valid text is an unknown version, answered with the body.
        using var oddSince = await Send(server.Address, HttpMethod.Get, "/api/report?since=%ED%A0%80", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        Assert.Equal(HttpStatusCode.OK, byCookie.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byBearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, oddSince.StatusCode);
        Assert.NotNull(JsonNode.Parse(await oddSince.Content.ReadAsStringAsync())!["body"]);
    }

    [Fact]
    public async Task AForeignHostOrOriginIs403AndABodyThatIsNotJsonIs415()
    {
        using var server = Start();
        string token = server.Token!;
        void Bearer(HttpRequestMessage r) => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        await AssertRefused(await Send(server.Address, HttpMethod.Get, "/", r => { Bearer(r); r.Headers.Host = "attacker.example"; }), HttpStatusCode.Forbidden, "forbidden_host");
        await AssertRefused(await Send(server.Address, HttpMethod.Get, $"/?token={token}", r => r.Headers.Host = $"rebind.attacker.example:{server.Address.Port}"), HttpStatusCode.Forbidden, "forbidden_host");
        await AssertRefused(await Send(server.Address, HttpMethod.Get, "/api/report", r => { Bearer(r); r.Headers.Add("Origin", "http://attacker.example"); }), HttpStatusCode.Forbidden, "forbidden_origin");
        await AssertRefused(await Send(server.Address, HttpMethod.Post, "/api/report", r =>
        {
            Bearer(r);
            r.Content = new StringContent("{}", Encoding.UTF8, "text/plain");
        }), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");

        using var ownOrigin = await Send(server.Address, HttpMethod.Get, "/api/report", r => { Bearer(r); r.Headers.Add("Origin", server.Address.GetLeftPart(UriPartial.Authority)); });
        using var jsonPost = await Send(server.Address, HttpMethod.Post, "/api/report", r =>
        {
            Bearer(r);
            r.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        });
        Assert.Equal(HttpStatusCode.OK, ownOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, jsonPost.StatusCode);
    }

    [Fact]
    public async Task ThePageRunsOnlyItsOwnScriptAndStaysOutOfFramesCachesAndReferrers()
    {
        using var server = Start();
        using var page = await Send(server.Address, HttpMethod.Get, $"/?token={server.Token}");
        using var refused = await Send(server.Address, HttpMethod.Get, "/");
        string html = await page.Content.ReadAsStringAsync();

        string csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        // The page's own script and style are allowed by their hashes, and nothing else is.
        Assert.Contains($"script-src '{Hash(ScriptBlock().Match(html))}';", csp);
        Assert.Contains($"style-src '{Hash(StyleBlock().Match(html))}';", csp);
        foreach (var response in new[] { page, refused })
        {
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.True(response.Headers.CacheControl!.NoStore);
        }
    }

    [Fact]
    public void ANonLoopbackHostIsRefusedWithoutAllowRemote()
    {
        var run = Path.Combine(_dir, "pipe");
        FakeRuns.Stage(run, "sft", [FakeRuns.Line(1, ("train/loss", 1.0))], finished: false);

        var (code, output, error) = RlhfProcess.Run("dashboard", run, "--port", "0", "--host", "0.0.0.0");

        Assert.Equal(2, code);
        Assert.Contains("--allow_remote", error);
        Assert.DoesNotContain("listening on", output);
    }

    [Fact]
    public async Task WithAllowRemoteItWarnsAndTheGivenTokenIsRequired()
    {
        const string token = "a-dashboard-token-of-my-own";
        using var server = Start("--host", "0.0.0.0", "--allow_remote", "--token", token);

        using var without = await Send(server.Address, HttpMethod.Get, "/api/report");
        using var with = await Send(server.Address, HttpMethod.Get, "/api/report", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));

        Assert.True(SpinWait.SpinUntil(() => server.Stderr.Contains("WARNING: listening on 0.0.0.0", StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
            $"no warning on standard error:\n{server.Stderr}");
        Assert.DoesNotContain(token, server.Stdout);
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    private static string Hash(Match block)
    {
        Assert.True(block.Success, "the page has no such block");
        return "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(block.Groups[1].Value)));
    }

    [GeneratedRegex(@"<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptBlock();

    [GeneratedRegex(@"<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleBlock();
}
