using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>The labelling server's HTTP surface, against the real <c>rlhf label --judge human</c> process.</summary>
public sealed class LabelServerHttpTests : IDisposable
{
    private static readonly TimeSpan RequestLimit = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("label-http-").FullName;
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = RequestLimit };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Prefs => Path.Combine(_dir, "prefs.jsonl");

    private RlhfProcess Start(IEnumerable<PairItem> items, params string[] args) =>
        LabelProcess.Start([.. args, "--pairs_file", TestPairs.Write(Path.Combine(_dir, "pairs.jsonl"), items), "--out", Prefs, "--port", "0"]);

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> Send(Uri root, HttpMethod method, string path,
        string? json = null, string contentType = "application/json", Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(root, path));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, contentType);
        configure?.Invoke(request);
        var response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonNode? body = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text) : null;
        return (response.StatusCode, body, response);
    }

    [Fact]
    public async Task WithHostSetEveryEndpointAnswers401WithoutTheToken()
    {
        var items = TestPairs.Arithmetic(2);
        using var server = Start(items, "--host", "0.0.0.0", "--allow_remote");
        string cookieName = $"rlhf_label_token_{server.Address.Port}";
        string token = server.Token ?? throw new InvalidOperationException($"no access token printed:\n{server.Stdout}");
        Assert.True(token.Length >= 32);
        Assert.Contains($"&token={token}", server.Stdout);

        string label = $$"""{"labeller": "ana", "item": "{{items[0].Id}}", "left": "a", "choice": "left"}""";
        var requests = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Get, "/", null),
            (HttpMethod.Get, "/?labeller=ana", null),
            (HttpMethod.Get, "/favicon.ico", null),
            (HttpMethod.Get, "/api/next?labeller=ana", null),
            (HttpMethod.Get, "/api/progress?labeller=ana", null),
            (HttpMethod.Post, "/api/label", label),
            (HttpMethod.Post, "/api/undo", """{"labeller": "ana"}"""),
            (HttpMethod.Put, "/api/label", label),
            (HttpMethod.Get, "/no/such/path", null),
        };
        var wrongCredentials = new Action<HttpRequestMessage>?[]
        {
            null,
            r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-wrong-token-wrong"),
            r => r.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ana:" + token))),
            r => r.Headers.Add("Cookie", $"{cookieName}=wrong-token-wrong-token"),
            r => r.RequestUri = new Uri(r.RequestUri! + (r.RequestUri!.Query.Length > 0 ? "&" : "?") + "token=" + token[..^1]),
        };
        foreach (var (method, path, body) in requests)
        {
            foreach (var credentials in wrongCredentials)
            {
                var (status, json, response) = await Send(server.Address, method, path, body, configure: credentials);
                Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {path}: {status}");
                Assert.Equal("unauthorized", json!["error"]!["code"]!.GetValue<string>());
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                Assert.False(response.Headers.Contains("Set-Cookie"));
            }
        }
        Assert.True(!File.Exists(Prefs) || new FileInfo(Prefs).Length == 0, "a refused request wrote a label");

        // With the token: as a header, in the printed link (which sets the cookie), and as that cookie.
        var byHeader = await Send(server.Address, HttpMethod.Get, "/api/next?labeller=ana", configure: r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
        Assert.Equal(HttpStatusCode.OK, byHeader.Status);
        var page = await Send(server.Address, HttpMethod.Get, $"/?labeller=ana&token={token}");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var cookie = page.Response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"{cookieName}={token}", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var byCookie = await Send(server.Address, HttpMethod.Post, "/api/label", label, configure: r => r.Headers.Add("Cookie", $"{cookieName}={token}"));
        Assert.Equal(HttpStatusCode.OK, byCookie.Status);
        Assert.Single(File.ReadAllLines(Prefs));
    }

    [Fact]
    public async Task BadRequestsAreRefusedWithJsonErrorsThatNameTheFieldAndWriteNothing()
    {
        var items = TestPairs.Arithmetic(2);
        using var server = Start(items, "--max_request_bytes", "2048", "--set", "labellers=[ana, bo]");
        string id = items[0].Id;
        async Task Refused(HttpStatusCode expected, string code, string? param, HttpMethod method, string path, string? body = null,
            string contentType = "application/json", Action<HttpRequestMessage>? configure = null)
        {
            var (status, json, _) = await Send(server.Address, method, path, body, contentType, configure);
            Assert.True(status == expected, $"{method} {path} {body}: {status}, expected {expected}: {json}");
            Assert.Equal(code, json!["error"]!["code"]!.GetValue<string>());
            Assert.Equal(param, json["error"]!["param"]?.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(json["error"]!["message"]!.GetValue<string>()));
        }

        await Refused(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", null, HttpMethod.Post, "/api/label", "labeller=ana", "application/x-www-form-urlencoded");
        await Refused(HttpStatusCode.RequestEntityTooLarge, "request_too_large", null, HttpMethod.Post, "/api/label",
            $$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "note": "{{new string('x', 4000)}}"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_json", null, HttpMethod.Post, "/api/label", "{\"labeller\": ");
        await Refused(HttpStatusCode.BadRequest, "missing_labeller", "labeller", HttpMethod.Post, "/api/label", $$"""{"item": "{{id}}", "left": "a", "choice": "left"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_value", "labeller", HttpMethod.Post, "/api/label", $$"""{"labeller": "<b>ana</b>", "item": "{{id}}", "left": "a", "choice": "left"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_value", "choice", HttpMethod.Post, "/api/label", $$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "up"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_value", "left", HttpMethod.Post, "/api/label", $$"""{"labeller": "ana", "item": "{{id}}", "left": "c", "choice": "left"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_value", "ratings.left.helpful", HttpMethod.Post, "/api/label",
            $$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "ratings": {"left": {"helpful": 9} } }""");
        await Refused(HttpStatusCode.BadRequest, "invalid_value", "ratings.right.funny", HttpMethod.Post, "/api/label",
            $$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "ratings": {"right": {"funny": 3} } }""");
        await Refused(HttpStatusCode.Forbidden, "labeller_not_allowed", "labeller", HttpMethod.Post, "/api/label", $$"""{"labeller": "cy", "item": "{{id}}", "left": "a", "choice": "left"}""");
        await Refused(HttpStatusCode.NotFound, "unknown_item", "item", HttpMethod.Post, "/api/label", """{"labeller": "ana", "item": "0000000000000000", "left": "a", "choice": "left"}""");
        await Refused(HttpStatusCode.Conflict, "nothing_to_undo", "labeller", HttpMethod.Post, "/api/undo", """{"labeller": "ana"}""");
        await Refused(HttpStatusCode.BadRequest, "missing_labeller", "labeller", HttpMethod.Get, "/api/next");
        await Refused(HttpStatusCode.MethodNotAllowed, "method_not_allowed", null, HttpMethod.Get, "/api/label");
        await Refused(HttpStatusCode.NotFound, "not_found", null, HttpMethod.Get, "/admin");
        await Refused(HttpStatusCode.Forbidden, "forbidden_host", null, HttpMethod.Get, "/api/next?labeller=ana", configure: r => r.Headers.Host = "attacker.example");
        Assert.True(!File.Exists(Prefs) || new FileInfo(Prefs).Length == 0, "a refused request wrote a label");

        // A good label, then the same again: saved once, and the repeat is told so.
        string good = $$"""{"labeller": "ana", "item": "{{id}}", "left": "b", "choice": "right", "ratings": {"left": {"helpful": 3}, "right": {"helpful": 6, "honest": null} }, "seconds": 1.5}""";
        var saved = await Send(server.Address, HttpMethod.Post, "/api/label", good);
        Assert.Equal(HttpStatusCode.OK, saved.Status);
        Assert.Equal(1, saved.Body!["progress"]!["items_done"]!.GetValue<int>());
        await Refused(HttpStatusCode.Conflict, "already_labelled", "item", HttpMethod.Post, "/api/label", good);
        var line = JsonNode.Parse(Assert.Single(File.ReadAllLines(Prefs)))!;
        Assert.Equal((items[0].A, items[0].B, "rejected"), (line["chosen"]!.GetValue<string>(), line["rejected"]!.GetValue<string>(), line["shown_left"]!.GetValue<string>()));
        Assert.Equal(6, line["ratings"]!["chosen"]!["helpful"]!.GetValue<int>());
        Assert.Equal(3, line["ratings"]!["rejected"]!["helpful"]!.GetValue<int>());
    }

    [Fact]
    public async Task TextThatIsNotValidUnicodeIs400NamingTheFieldAndWritesNothing()
    {
        var items = TestPairs.Arithmetic(1);
        using var server = Start(items);
        string id = items[0].Id;
        async Task Refused(string param, byte[] body, string path = "/api/label")
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, path)) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{Encoding.UTF8.GetString(body)}: {response.StatusCode} {text}");
            var json = JsonNode.Parse(text)!;
            Assert.Equal("invalid_unicode", json["error"]!["code"]!.GetValue<string>());
            Assert.Equal(param, json["error"]!["param"]?.GetValue<string>());
        }

        await Refused("note", Encoding.UTF8.GetBytes($$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "note": "good \ud800"}"""));
        await Refused("labeller", Encoding.UTF8.GetBytes("""{"labeller": "\udc00ana"}"""), "/api/undo");
        await Refused("item", Encoding.UTF8.GetBytes("""{"labeller": "ana", "item": "\ud834", "left": "a", "choice": "left"}"""));
        await Refused("ratings.left", Encoding.UTF8.GetBytes($$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "ratings": {"left": {"\ud800": 3} } }"""));
        byte[] badUtf8 = [.. Encoding.UTF8.GetBytes($$"""{"labeller": "ana", "item": "{{id}}", "left": "a", "choice": "left", "note": "caf"""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}")];
        await Refused("note", badUtf8);
        Assert.True(!File.Exists(Prefs) || new FileInfo(Prefs).Length == 0, "a refused request wrote a label");
    }

    [Fact]
    public async Task RequestsFromAnotherOriginAre403AndTheOwnOriginIsAnswered()
    {
        var items = TestPairs.Arithmetic(1);
        using var server = Start(items);
        string label = $$"""{"labeller": "ana", "item": "{{items[0].Id}}", "left": "a", "choice": "left"}""";

        var foreign = await Send(server.Address, HttpMethod.Post, "/api/label", label, configure: r => r.Headers.Add("Origin", "http://attacker.example"));
        var foreignGet = await Send(server.Address, HttpMethod.Get, "/api/next?labeller=ana", configure: r => r.Headers.Add("Origin", "http://localhost:1"));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
        Assert.Equal("forbidden_origin", foreign.Body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, foreignGet.Status);
        Assert.True(!File.Exists(Prefs) || new FileInfo(Prefs).Length == 0, "a refused request wrote a label");

        var own = await Send(server.Address, HttpMethod.Post, "/api/label", label, configure: r => r.Headers.Add("Origin", server.Address.GetLeftPart(UriPartial.Authority)));
        Assert.Equal(HttpStatusCode.OK, own.Status);
    }

    [Fact]
    public void ANonLoopbackHostIsRefusedWithoutAllowRemote()
    {
        var pairs = TestPairs.Write(Path.Combine(_dir, "pairs.jsonl"), TestPairs.Arithmetic(1));

        var (code, output, error) = RlhfProcess.Run("label", "--judge", "human", "--pairs_file", pairs, "--out", Prefs, "--port", "0", "--host", "0.0.0.0");

        Assert.Equal(2, code);
        Assert.Contains("--allow_remote", error);
        Assert.DoesNotContain("listening on", output);
    }

    [Fact]
    public async Task ModelTextTravelsAsEscapedJsonAndThePageForbidsEverythingButItsOwnScript()
    {
        const string script = "<script>alert('x')</script>";
        const string img = "<img src=x onerror=alert(1)>";
        using var server = Start([PairItem.Create([ChatMessage.User("Say <b>hi</b> & bye")], script, img)]);

        var (status, body, response) = await Send(server.Address, HttpMethod.Get, "/api/next?labeller=ana");
        Assert.Equal(HttpStatusCode.OK, status);
        string raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<", raw);
        Assert.DoesNotContain(">", raw);
        Assert.Equal([img, script], new[] { body!["item"]!["left_text"]!.GetValue<string>(), body["item"]!["right_text"]!.GetValue<string>() }.Order());
        Assert.Equal("Say <b>hi</b> & bye", body["item"]!["prompt"]![0]!["content"]!.GetValue<string>());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());

        var page = await Send(server.Address, HttpMethod.Get, "/?labeller=ana");
        string csp = page.Response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp);
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]+';", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.True(page.Response.Headers.CacheControl!.NoStore);
        Assert.Equal("text/html", page.Response.Content.Headers.ContentType!.MediaType);
        string html = await page.Response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("innerHTML", html);
        Assert.DoesNotContain("alert", html);
        Assert.DoesNotContain("http:", html); // nothing is loaded from elsewhere
        Assert.DoesNotContain("https:", html);
    }
}
