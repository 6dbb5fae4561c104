using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Judges;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// The HTTP judge against servers that fail on purpose: each failure is a typed error after a
/// bounded number of attempts, and the API key never shows in an error.
/// </summary>
public sealed class HttpJudgeTests
{
    private const int Retries = 2;

    private static readonly JudgeItem Item = new([ChatMessage.User("What is 7 + 5?")], "7 + 5 = 12.", "It is 13.");

    private static HttpJudge Judge(string baseUrl, TimeSpan? timeout = null, string? keyVariable = null) => new(new HttpJudgeOptions
    {
        BaseUrl = baseUrl,
        Model = "judge",
        ApiKeyEnvironmentVariable = keyVariable,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
        MaxRetries = Retries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        MaxConcurrency = 1, // one request at a time, so the server's counts are exact
    });

    // A TimeoutException instead (the judge hanging) fails the test.
    private static Task<JudgeHttpException> FailsAsync(HttpJudge judge) =>
        Assert.ThrowsAsync<JudgeHttpException>(() => judge.JudgeAsync([Item]).WaitAsync(TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task AClosedPortIsServerUnreachableAfterEveryAttempt()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var judge = Judge($"http://127.0.0.1:{port}");

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.ServerUnreachable, e.Kind);
        Assert.Equal(Retries + 1, e.Attempts);
        Assert.Contains($"http://127.0.0.1:{port}/v1/chat/completions", e.Message);
        Assert.Contains($"after {Retries + 1} attempts", e.Message);
    }

    [Fact]
    public async Task AServerThatNeverAnswersIsATimeoutAfterEveryAttempt()
    {
        using var server = new FakeHttpServer((_, _, _) => null);
        // Long enough that a loaded machine still connects before the timeout strikes, so every attempt reaches the server.
        using var judge = Judge(server.BaseUrl, timeout: TimeSpan.FromMilliseconds(1500));

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.Timeout, e.Kind);
        Assert.Equal(Retries + 1, e.Attempts);
        Assert.Equal(Retries + 1, server.WaitForConnections(Retries + 1));
        Assert.Contains(server.BaseUrl, e.Message);
        Assert.Contains("1.5 s", e.Message);
    }

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("{\"id\": \"x\", \"object\": \"chat.completion\"}")]
    [InlineData("{\"choices\": [{\"message\": {\"content\": 42}}]}")]
    [InlineData("")]
    public async Task ANonCompletionBodyIsMalformedAndNotRetried(string body)
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(200, body, "text/plain"));
        using var judge = Judge(server.BaseUrl);

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.MalformedResponse, e.Kind);
        Assert.Equal(1, e.Attempts);
        Assert.Equal(1, server.Requests);
        Assert.Contains("choices[0].message.content", e.Message);
    }

    [Fact]
    public async Task ABrokenHttpAnswerIsMalformed()
    {
        using var server = new FakeHttpServer((_, _, _) => "HELLO THERE\r\n\r\n");
        using var judge = Judge(server.BaseUrl);

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.MalformedResponse, e.Kind);
        Assert.Equal(1, server.Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task TransientStatusesAreRetriedThenReported(int status)
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(status, "{\"error\": {\"message\": \"boom\"}}"));
        using var judge = Judge(server.BaseUrl);

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.HttpStatus, e.Kind);
        Assert.Equal(status, e.StatusCode);
        Assert.Equal(Retries + 1, e.Attempts);
        Assert.Equal(Retries + 1, server.Requests);
        Assert.Contains($"HTTP {status}", e.Message);
        Assert.Contains("boom", e.Message);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(413)]
    public async Task OtherClientErrorsFailAtOnce(int status)
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(status, "{}"));
        using var judge = Judge(server.BaseUrl);

        var e = await FailsAsync(judge);

        Assert.Equal(JudgeHttpErrorKind.HttpStatus, e.Kind);
        Assert.Equal(status, e.StatusCode);
        Assert.Equal(1, e.Attempts);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task AServerThatRecoversWithinTheRetriesIsAnswered()
    {
        using var server = new FakeHttpServer((n, _, _) => n <= Retries ? FakeHttpServer.Response(500, "{}") : FakeHttpServer.Completion("A"));
        using var judge = Judge(server.BaseUrl);

        string answer = await judge.CompleteAsync("Say A.").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("A", answer);
        Assert.Equal(Retries + 1, server.Requests);
    }

    [Fact]
    public async Task TheApiKeyIsSentAsBearerAndNeverAppearsInAnError()
    {
        string variable = "RLHFSHARP_TEST_KEY_" + Guid.NewGuid().ToString("N");
        string key = "sk-test-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, key);
        try
        {
            // A server that echoes the request, headers included, in its error body.
            using var server = new FakeHttpServer((_, head, body) => FakeHttpServer.Response(500, head + "\r\n\r\n" + body, "text/plain"));
            using var judge = Judge(server.BaseUrl, keyVariable: variable);

            var e = await FailsAsync(judge);

            Assert.All(server.Heads, head => Assert.Contains($"Authorization: Bearer {key}", head));
            Assert.DoesNotContain(key, e.Message);
            Assert.DoesNotContain(key, e.ToString());
            Assert.DoesNotContain(key, judge.ToString());
            Assert.Contains("[api key]", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void AnUnsetKeyVariableIsAClearError()
    {
        string variable = "RLHFSHARP_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var e = Assert.Throws<TrainingSetupException>(() => Judge("http://127.0.0.1:9", keyVariable: variable));

        Assert.Contains(variable, e.Message);
    }

    [Fact]
    public async Task AVerdictStandsOnlyWhenBothOrdersAgree()
    {
        JudgeItem[] items = [new([ChatMessage.User("q1")], "good one", "bad one"), new([ChatMessage.User("q2")], "bad two", "good two")];
        // Reads the judging prompt and picks the response that says "good", wherever it is shown.
        using var fair = new FakeHttpServer((_, _, body) =>
        {
            string prompt = (string)JsonNode.Parse(body)!["messages"]![0]!["content"]!;
            return FakeHttpServer.Completion(prompt.Contains("Response A: good", StringComparison.Ordinal) ? "A" : "The better one is B.");
        });
        using var biased = new FakeHttpServer((_, _, _) => FakeHttpServer.Completion("A"));
        using var evasive = new FakeHttpServer((_, _, _) => FakeHttpServer.Completion("Both are fine."));
        using var fairJudge = Judge(fair.BaseUrl);
        using var biasedJudge = Judge(biased.BaseUrl);
        using var evasiveJudge = Judge(evasive.BaseUrl);

        var limit = TimeSpan.FromSeconds(30);
        Assert.Equal([Verdict.A, Verdict.B], await fairJudge.JudgeAsync(items).WaitAsync(limit));
        Assert.Equal([Verdict.Tie, Verdict.Tie], await biasedJudge.JudgeAsync(items).WaitAsync(limit)); // always the first shown: no preference
        Assert.Equal([Verdict.Tie, Verdict.Tie], await evasiveJudge.JudgeAsync(items).WaitAsync(limit));
        Assert.Equal(4, fair.Requests);
    }

    [Theory]
    [InlineData("A", 'A')]
    [InlineData("B", 'B')]
    [InlineData("Response B is better.", 'B')]
    [InlineData("(A)", 'A')]
    [InlineData("Both are good; Alas, A.", 'A')]
    [InlineData("ABBA", null)]
    [InlineData("neither", null)]
    public void TheChoiceIsTheFirstStandaloneAOrB(string answer, char? expected) =>
        Assert.Equal(expected, HttpJudge.ReadChoice(answer));

    [Theory]
    [InlineData("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions")]
    [InlineData("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/chat/completions")]
    [InlineData("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/chat/completions")]
    [InlineData("https://example.com/api/v1/", "https://example.com/api/v1/chat/completions")]
    public void TheEndpointFollowsTheBaseUrl(string baseUrl, string endpoint)
    {
        using var judge = Judge(baseUrl);
        Assert.Equal(endpoint, judge.Endpoint);
    }
}
