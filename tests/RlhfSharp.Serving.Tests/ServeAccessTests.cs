using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// Who may talk to a real <c>rlhf serve</c> process: the access token, the Host and Origin checks,
/// JSON-only bodies, the security headers, and text that is not valid Unicode.
/// </summary>
[Collection(ServeCollection.Name)]
public sealed class ServeAccessTests(ServerFixture server) : IDisposable
{
    private readonly HttpClient _anonymous = new() { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _anonymous.Dispose();

    private static HttpRequestMessage Chat(string json, string? token, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(json, Encoding.UTF8, contentType),
        };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static async Task AssertRefused(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await ServerFixture.ReadJsonAsync(response);
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal(code, (string?)body!["error"]!["code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)body["error"]!["message"]));
    }

    [Fact]
    public void TheServerPrintsARandomTokenOfItsOwn()
    {
        Assert.True(server.Token.Length >= 32, $"token '{server.Token}' is short");
    }

    [Fact]
    public async Task WithoutTheTokenEveryEndpointIs401AndWithItTheAnswerComes()
    {
        string wrong = server.Token[..^1] + (server.Token[^1] == 'x' ? 'y' : 'x');
        foreach (string? token in new[] { null, wrong, "short", server.Token + "x" })
        {
            using var models = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            if (token is not null)
                models.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var modelsAnswer = await _anonymous.SendAsync(models);
            await AssertRefused(modelsAnswer, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Equal("Bearer", modelsAnswer.Headers.WwwAuthenticate.Single().Scheme);

            using var chat = Chat(ServerFixture.GreedyRequest("hi", 2), token);
            using var chatAnswer = await _anonymous.SendAsync(chat);
            await AssertRefused(chatAnswer, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using var basic = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + server.Token)));
        await AssertRefused(await _anonymous.SendAsync(basic), HttpStatusCode.Unauthorized, "unauthorized");

        using var right = Chat(ServerFixture.GreedyRequest("hi", 2), server.Token);
        using var answer = await _anonymous.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("chat.completion", (string?)(await ServerFixture.ReadJsonAsync(answer))!["object"]);
    }

    [Fact]
    public async Task HealthAnswersWithoutTheTokenAndTellsNothingElse()
    {
        using var response = await _anonymous.GetAsync("/health");
        var body = await ServerFixture.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", body!.ToJsonString());
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("attacker.example:8000")]
    [InlineData("192.168.1.10")]
    public async Task AHostThatIsNotLoopbackIs403EvenWithTheToken(string host)
    {
        using var request = Chat(ServerFixture.GreedyRequest("hi", 2), server.Token);
        request.Headers.Host = host;
        using var health = new HttpRequestMessage(HttpMethod.Get, "/health");
        health.Headers.Host = host;

        await AssertRefused(await _anonymous.SendAsync(request), HttpStatusCode.Forbidden, "forbidden_host");
        await AssertRefused(await _anonymous.SendAsync(health), HttpStatusCode.Forbidden, "forbidden_host");
    }

    [Fact]
    public async Task LoopbackNamesAreAnswered()
    {
        foreach (string host in new[] { "localhost", "127.0.0.1", "[::1]" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.Host = $"{host}:{server.Address.Port}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Token);
            using var response = await _anonymous.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host {host}: {response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("http://attacker.example")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1:1")]
    public async Task AForeignOriginIs403EvenWithTheToken(string origin)
    {
        using var request = Chat(ServerFixture.GreedyRequest("hi", 2), server.Token);
        request.Headers.Add("Origin", origin);

        await AssertRefused(await _anonymous.SendAsync(request), HttpStatusCode.Forbidden, "forbidden_origin");
    }

    [Fact]
    public async Task TheServersOwnOriginIsAnswered()
    {
        using var request = Chat(ServerFixture.GreedyRequest("hi", 2), server.Token);
        request.Headers.Add("Origin", server.Address.GetLeftPart(UriPartial.Authority));

        using var response = await _anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data")]
    public async Task ABodyThatIsNotDeclaredJsonIs415(string contentType)
    {
        using var request = Chat(ServerFixture.GreedyRequest("hi", 2), server.Token, contentType);

        await AssertRefused(await _anonymous.SendAsync(request), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task EveryAnswerCarriesTheSecurityHeaders()
    {
        using var ok = await server.Client.GetAsync("/v1/models");
        using var refused = await _anonymous.GetAsync("/v1/models");
        using var missing = await server.Client.GetAsync("/nope");

        foreach (var response in new[] { ok, refused, missing })
        {
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.True(response.Headers.CacheControl!.NoStore);
        }
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "hi \ud800 there"}]}""", "messages[0].content")]
    [InlineData("""{"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "\udfff"}]}""", "messages[1].content")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "text", "text": "\ud83d"}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "stop": ["ok", "\udc00x"]}""", "stop[1]")]
    [InlineData("""{"model": "\ud800", "messages": [{"role": "user", "content": "hi"}]}""", "model")]
    public async Task ALoneSurrogateIs400NamingTheField(string json, string param)
    {
        using var request = Chat(json, server.Token);
        using var response = await _anonymous.SendAsync(request);
        var body = await ServerFixture.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_unicode", (string?)body!["error"]!["code"]);
        Assert.Equal(param, (string?)body["error"]!["param"]);
        Assert.Contains(param, (string?)body["error"]!["message"]);
    }

    [Fact]
    public async Task BytesThatAreNotUtf8Are400NamingTheField()
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("""{"messages": [{"role": "user", "content": "caf"""));
        bytes.AddRange([0xC3, 0x28, 0xFF]); // a broken two-byte sequence, then a byte UTF-8 never uses
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}]}"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent([.. bytes]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Token);

        using var response = await _anonymous.SendAsync(request);
        var body = await ServerFixture.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_unicode", (string?)body!["error"]!["code"]);
        Assert.Equal("messages[0].content", (string?)body["error"]!["param"]);
    }

    [Fact]
    public async Task APairedSurrogateEscapeIsText()
    {
        var (status, body) = await server.ChatAsync("""{"messages": [{"role": "user", "content": "smile \ud83d\ude00"}], "max_tokens": 2, "temperature": 0}""");

        Assert.True(status == 200, $"{status}: {body}");
    }
}
