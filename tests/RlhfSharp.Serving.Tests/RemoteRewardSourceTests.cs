using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// The remote reward client against a loopback server that answers what each test says: the
/// request it sends, how it batches, what it retries, and the answers it refuses.
/// </summary>
public sealed class RemoteRewardSourceTests
{
    private static readonly PromptExample[] Rows =
    [
        Row("What is 7 + 5?", """{"label": "12"}"""),
        Row("Reverse 'cat'.", """{"answer": "tac", "label": 3}"""),
        Row("Is 14 even?", """{"answer": "even"}"""),
    ];

    private static readonly string[] Responses = ["12", "It is <|im_end|> tac", "odd"];

    private static PromptExample Row(string prompt, string extra) => new([ChatMessage.User(prompt)], "prompts.jsonl", 1)
    {
        Extra = JsonDocument.Parse(extra).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
    };

    private static RemoteRewardSource Client(string url, int batchSize = 64, int retries = 2, TimeSpan? timeout = null, string? token = null, string? labelField = null) => new(new RemoteRewardOptions
    {
        Url = new Uri(url),
        BatchSize = batchSize,
        Retries = retries,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
        Backoff = TimeSpan.FromMilliseconds(5),
        Token = token,
        LabelField = labelField,
    }, ChatTemplate.ChatMl);

    private static string Rewards(params double[] rewards) => FakeHttpServer.Response(200, JsonSerializer.Serialize(new { rewards }));

    private static JsonObject Body(string body) => JsonNode.Parse(body)!.AsObject();

    [Fact]
    public void SendsPromptsAsThePolicySeesThemQueriesAndLabels()
    {
        var bodies = new List<string>();
        using var server = new FakeHttpServer((_, _, body) =>
        {
            bodies.Add(body);
            return FakeHttpServer.Response(200, """{"rewards": [0.5, -1, 2e0], "extra": {"ignored": true}}""");
        });
        using var client = Client(server.BaseUrl + "/get_reward");

        var rewards = client.ScoreExamples(Rows, Responses);

        Assert.Equal([0.5, -1.0, 2.0], rewards);
        var request = Body(Assert.Single(bodies));
        var prompts = request["prompts"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        Assert.Equal("<|im_start|>user\nWhat is 7 + 5?<|im_end|>\n<|im_start|>assistant\n", prompts[0]);
        for (int i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(ChatTemplate.ChatMl.Render(Rows[i].Messages, addGenerationPrompt: true).Text, prompts[i]);
            Assert.Equal(prompts[i] + Responses[i], request["query"]![i]!.GetValue<string>());
        }
        // label first, else answer, else null; a label keeps its JSON type.
        Assert.Equal("""["12",3,"even"]""", request["labels"]!.ToJsonString());
    }

    [Fact]
    public void TheLabelFieldCanBeNamedAndAMissingOneIsNull()
    {
        var bodies = new List<string>();
        using var server = new FakeHttpServer((_, _, body) => { bodies.Add(body); return Rewards(1, 2, 3); });
        using var client = Client(server.BaseUrl + "/get_reward", labelField: "answer");
        client.ScoreExamples(Rows, Responses);
        Assert.Equal("""[null,"tac","even"]""", Body(bodies[0])["labels"]!.ToJsonString());
    }

    [Fact]
    public void BatchingSplitsRequestsAndKeepsTheOrder()
    {
        var sizes = new List<int>();
        using var server = new FakeHttpServer((n, _, body) =>
        {
            int count = Body(body)["query"]!.AsArray().Count;
            sizes.Add(count);
            return Rewards([.. Enumerable.Range(0, count).Select(i => 10.0 * n + i)]);
        });
        using var client = Client(server.BaseUrl + "/get_reward", batchSize: 2);
        var rows = Enumerable.Range(0, 5).Select(i => Rows[i % 3]).ToArray();

        var rewards = client.ScoreExamples(rows, [.. Enumerable.Range(0, 5).Select(i => $"r{i}")]);

        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal([10.0, 11.0, 20.0, 21.0, 30.0], rewards);
    }

    [Fact]
    public void TheTokenIsSentAsABearerHeader()
    {
        using var server = new FakeHttpServer((_, _, _) => Rewards(1, 1, 1));
        using var client = Client(server.BaseUrl + "/get_reward", token: "secret-token-0123456789");
        client.ScoreExamples(Rows, Responses);
        Assert.Contains("Authorization: Bearer secret-token-0123456789", server.Heads.Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Content-Type: application/json", server.Heads.Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A500ThenSuccessIsRetried()
    {
        using var server = new FakeHttpServer((n, _, _) => n == 1 ? FakeHttpServer.Response(503, "busy") : Rewards(4, 5, 6));
        using var client = Client(server.BaseUrl + "/get_reward");
        Assert.Equal([4.0, 5.0, 6.0], client.ScoreExamples(Rows, Responses));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public void A400IsNotRetriedAndTheErrorNamesTheUrlStatusAndBody()
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(400, """{"error": "labels must be strings"}"""));
        using var client = Client(server.BaseUrl + "/get_reward");
        var e = Assert.Throws<RemoteRewardException>(() => client.ScoreExamples(Rows, Responses));
        Assert.Equal(1, server.Requests);
        Assert.Contains(server.BaseUrl + "/get_reward", e.Message);
        Assert.Contains("HTTP 400", e.Message);
        Assert.Contains("labels must be strings", e.Message);
        Assert.IsAssignableFrom<IUserError>(e);
    }

    [Fact]
    public void FiveHundredsUntilTheRetriesRunOutAreReportedWithTheAttempts()
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(500, "Traceback: boom"));
        using var client = Client(server.BaseUrl + "/get_reward", retries: 2);
        var e = Assert.Throws<RemoteRewardException>(() => client.ScoreExamples(Rows, Responses));
        Assert.Equal(3, server.Requests);
        Assert.Contains("HTTP 500", e.Message);
        Assert.Contains("Traceback: boom", e.Message);
        Assert.Contains("after 3 attempt(s)", e.Message);
    }

    [Fact]
    public void ATimeoutIsRetriedThenReported()
    {
        using var server = new FakeHttpServer((_, _, _) => null); // never answers
        using var client = Client(server.BaseUrl + "/get_reward", retries: 1, timeout: TimeSpan.FromMilliseconds(200));
        var e = Assert.Throws<RemoteRewardException>(() => client.ScoreExamples(Rows, Responses));
        Assert.Equal(2, server.WaitForConnections(2));
        Assert.Contains("no answer within 0.2 s", e.Message);
        Assert.Contains("after 2 attempt(s)", e.Message);
    }

    [Fact]
    public void AClosedPortIsAConnectionErrorAfterEveryAttempt()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = Client($"http://127.0.0.1:{port}/get_reward", retries: 1);
        var e = Assert.Throws<RemoteRewardException>(() => client.ScoreExamples(Rows, Responses));
        Assert.Contains($"http://127.0.0.1:{port}/get_reward", e.Message);
        Assert.Contains("cannot connect", e.Message);
    }

    [Theory]
    [InlineData("""{"rewards": [1, 2]}""", "returned 2 rewards for 3 queries")]
    [InlineData("""{"rewards": [1, NaN, 2]}""", "NaN or Infinity")]
    [InlineData("""{"rewards": [1, Infinity, 2]}""", "NaN or Infinity")]
    [InlineData("""{"rewards": [1, 1e999, 2]}""", "rewards[1]")]
    [InlineData("""{"rewards": [1, "2", 3]}""", "rewards[1] must be a number")]
    [InlineData("""{"rewards": [1, null, 3]}""", "rewards[1] must be a number")]
    [InlineData("""{"scores": [1, 2, 3]}""", "without a \"rewards\" field")]
    [InlineData("""{"rewards": 3}""", "must be an array")]
    [InlineData("""[1, 2, 3]""", "without a \"rewards\" field")]
    [InlineData("""<html>oops</html>""", "not JSON")]
    public void AMalformedAnswerIsAnErrorAndNeverARewardOrARetry(string answer, string expected)
    {
        using var server = new FakeHttpServer((_, _, _) => FakeHttpServer.Response(200, answer));
        using var client = Client(server.BaseUrl + "/get_reward");
        var e = Assert.Throws<RemoteRewardException>(() => client.ScoreExamples(Rows, Responses));
        Assert.Contains(expected, e.Message);
        Assert.Contains(server.BaseUrl + "/get_reward", e.Message);
        Assert.Equal(1, server.Requests);
    }

    [Theory]
    [InlineData(null, "reward_url is required")]
    [InlineData("127.0.0.1:5000/get_reward", "absolute http:// or https:// URL")]
    [InlineData("ftp://example.com/get_reward", "absolute http:// or https:// URL")]
    [InlineData("/get_reward", "absolute http:// or https:// URL")]
    public void TheConfigRefusesAMissingOrNonHttpUrl(string? url, string expected)
    {
        var cfg = new GrpoConfig { Model = "m", Data = "d", RewardFuncs = ["remote"], RewardUrl = url };
        Assert.Contains(cfg.Validate(), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void TheConfigChecksTheOtherRemoteKeysAndAcceptsAGoodOne()
    {
        var good = new GrpoConfig { Model = "m", Data = "d", RewardFuncs = ["remote"], RewardUrl = "http://127.0.0.1:5000/get_reward" };
        Assert.DoesNotContain(good.Validate(), e => e.Contains("reward_", StringComparison.Ordinal));
        var bad = new GrpoConfig
        {
            Model = "m",
            Data = "d",
            RewardFuncs = ["remote"],
            RewardUrl = "https://rm.example/get_reward",
            RewardTimeout = 0,
            RewardRetries = -1,
            RewardBatchSize = 0,
            RewardTokenEnv = "NOT A NAME",
        };
        var errors = bad.Validate().ToList();
        foreach (var key in new[] { "reward_timeout", "reward_retries", "reward_batch_size", "reward_token_env" })
            Assert.Contains(errors, e => e.StartsWith(key, StringComparison.Ordinal));
    }

    [Fact]
    public void ANamedTokenVariableThatIsUnsetStopsTheRunBeforeItStarts()
    {
        var cfg = new GrpoConfig { Model = "m", Data = "d", RewardFuncs = ["remote"], RewardUrl = "http://127.0.0.1:5000/get_reward", RewardTokenEnv = "RLHFSHARP_TEST_UNSET_REWARD_TOKEN" };
        var e = Assert.Throws<TrainingSetupException>(() => RewardFunctions.Build("remote", new RewardFunctionContext(cfg, ChatTemplate.ChatMl, null)));
        Assert.Contains("RLHFSHARP_TEST_UNSET_REWARD_TOKEN", e.Message);
    }
}
