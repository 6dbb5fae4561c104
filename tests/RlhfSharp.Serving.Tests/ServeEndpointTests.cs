using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Serving.Tests;

/// <summary>The endpoints of a real <c>rlhf serve</c> process: answers and refusals.</summary>
[Collection(ServeCollection.Name)]
public sealed class ServeEndpointTests(ServerFixture server)
{
    [Fact]
    public async Task ModelsListsTheServedModel()
    {
        using var response = await server.Client.GetAsync("/v1/models");
        var body = await ServerFixture.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", (string?)body!["object"]);
        var model = Assert.Single(body["data"]!.AsArray())!;
        Assert.Equal(ServerFixture.ModelName, (string?)model["id"]);
        Assert.Equal("model", (string?)model["object"]);
    }

    [Fact]
    public async Task AGoodChatCompletionHasTheOpenAiShape()
    {
        var (status, body) = await server.ChatAsync(ServerFixture.GreedyRequest("What is 7 + 5?", maxTokens: 6));

        Assert.Equal(200, status);
        Assert.StartsWith("chatcmpl-", (string?)body!["id"]);
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.Equal(ServerFixture.ModelName, (string?)body["model"]);
        Assert.True((long)body["created"]! > 0);
        var choice = Assert.Single(body["choices"]!.AsArray())!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.NotNull((string?)choice["message"]!["content"]);
        Assert.Contains((string?)choice["finish_reason"], new[] { "stop", "length" });
        int prompt = (int)body["usage"]!["prompt_tokens"]!, completion = (int)body["usage"]!["completion_tokens"]!;
        Assert.True(prompt > 0);
        Assert.InRange(completion, 1, 6);
        Assert.Equal(prompt + completion, (int)body["usage"]!["total_tokens"]!);
        if ((string?)choice["finish_reason"] == "length")
            Assert.Equal(6, completion);
    }

    [Fact]
    public async Task GreedyAnswersRepeatAndSeededSamplesReproduce()
    {
        var greedy = ServerFixture.GreedyRequest("Sort 3, 1, 2.");
        var seeded = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Sort 3, 1, 2." }),
            ["max_tokens"] = 8,
            ["temperature"] = 1.0,
            ["seed"] = 1234,
        }.ToJsonString();

        var g1 = await server.ChatAsync(greedy);
        var g2 = await server.ChatAsync(greedy);
        var s1 = await server.ChatAsync(seeded);
        var s2 = await server.ChatAsync(seeded);

        Assert.Equal(Content(g1.Body), Content(g2.Body));
        Assert.Equal(200, s1.Status);
        Assert.Equal(Content(s1.Body), Content(s2.Body));
    }

    [Fact]
    public async Task MalformedJsonIs400WithAJsonError()
    {
        var (status, body) = await server.ChatAsync("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}");

        AssertError(400, "invalid_json", null, status, body);
        Assert.Contains("not valid JSON", (string?)body!["error"]!["message"]);
    }

    [Theory]
    [InlineData("{\"model\": \"tiny\"}", "messages")]
    [InlineData("{\"messages\": []}", "messages")]
    [InlineData("{\"messages\": \"hello\"}", "messages")]
    [InlineData("{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content")]
    [InlineData("[1, 2]", null)]
    public async Task MissingOrEmptyMessagesAre400(string request, string? param)
    {
        var (status, body) = await server.ChatAsync(request);

        Assert.Equal(400, status);
        Assert.Equal("invalid_request_error", (string?)body!["error"]!["type"]);
        Assert.Equal(param, (string?)body["error"]!["param"]);
    }

    [Fact]
    public async Task AnUnknownRoleIs400NamingTheMessage()
    {
        var (status, body) = await server.ChatAsync("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"wizard\", \"content\": \"x\"}]}");

        AssertError(400, "invalid_value", "messages[1].role", status, body);
        Assert.Contains("wizard", (string?)body!["error"]!["message"]);
    }

    [Theory]
    [InlineData("\"max_tokens\": 0", "max_tokens")]
    [InlineData("\"max_tokens\": 2.5", "max_tokens")]
    [InlineData("\"max_tokens\": \"ten\"", "max_tokens")]
    [InlineData("\"temperature\": -1", "temperature")]
    [InlineData("\"temperature\": \"hot\"", "temperature")]
    [InlineData("\"top_p\": 0", "top_p")]
    [InlineData("\"seed\": 1e40", "seed")]
    [InlineData("\"n\": 2", "n")]
    [InlineData("\"stream\": \"yes\"", "stream")]
    [InlineData("\"stream\": true, \"stream_options\": {\"include_usage\": 1}", "stream_options.include_usage")]
    [InlineData("\"stream_options\": {\"include_usage\": true}", "stream_options")]
    public async Task BadNumbersAndUnsupportedOptionsAre400(string field, string param)
    {
        var (status, body) = await server.ChatAsync($"{{\"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}], {field}}}");

        Assert.Equal(400, status);
        Assert.Equal(param, (string?)body!["error"]!["param"]);
    }

    [Fact]
    public async Task AnUnknownModelIs404()
    {
        var (status, body) = await server.ChatAsync("{\"model\": \"gpt-9\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");

        AssertError(404, "model_not_found", "model", status, body);
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413()
    {
        var request = ServerFixture.GreedyRequest(new string('x', ServerFixture.MaxRequestBytes + 1000));

        var (status, body) = await server.ChatAsync(request);

        AssertError(413, "request_too_large", null, status, body);
    }

    [Fact]
    public async Task AChunkedBodyOverTheLimitIs413()
    {
        var bytes = Encoding.UTF8.GetBytes(ServerFixture.GreedyRequest(new string('x', ServerFixture.MaxRequestBytes + 1000)));
        using var content = new StreamContent(new MemoryStream(bytes)); // no length: sent chunked
        content.Headers.ContentType = new("application/json");
        using var response = await server.Client.PostAsync("/v1/chat/completions", content);
        var body = await ServerFixture.ReadJsonAsync(response);

        AssertError(413, "request_too_large", null, (int)response.StatusCode, body);
    }

    [Fact]
    public async Task MessagesLongerThanTheContextAre413()
    {
        // Digits are one token each: this prompt alone is over the model's positions.
        string prompt = string.Concat(Enumerable.Repeat("1234567890", TinyModel.MaxPositions / 10 + 1));

        var (status, body) = await server.ChatAsync(ServerFixture.GreedyRequest(prompt));
        var (statusWithRoom, _) = await server.ChatAsync(ServerFixture.GreedyRequest(prompt[..(TinyModel.MaxPositions - 60)], maxTokens: 8));
        var (statusNoRoom, bodyNoRoom) = await server.ChatAsync(ServerFixture.GreedyRequest(prompt[..(TinyModel.MaxPositions - 60)], maxTokens: 100));

        AssertError(413, "context_length_exceeded", "messages", status, body);
        Assert.Equal(200, statusWithRoom);
        AssertError(413, "context_length_exceeded", "messages", statusNoRoom, bodyNoRoom);
    }

    [Fact]
    public async Task AnUnknownPathIs404AndAWrongMethodIs405()
    {
        using var unknown = await server.Client.GetAsync("/v1/completions");
        using var wrongMethod = await server.Client.GetAsync("/v1/chat/completions");
        using var postModels = await server.Client.PostAsync("/v1/models", new StringContent("{}", Encoding.UTF8, "application/json"));

        AssertError(404, "not_found", null, (int)unknown.StatusCode, await ServerFixture.ReadJsonAsync(unknown));
        AssertError(405, "method_not_allowed", null, (int)wrongMethod.StatusCode, await ServerFixture.ReadJsonAsync(wrongMethod));
        Assert.Equal("POST", wrongMethod.Content.Headers.Allow.Single());
        AssertError(405, "method_not_allowed", null, (int)postModels.StatusCode, await ServerFixture.ReadJsonAsync(postModels));
    }

    private static string? Content(JsonNode? body) => (string?)body?["choices"]?[0]?["message"]?["content"];

    private static void AssertError(int expectedStatus, string code, string? param, int status, JsonNode? body)
    {
        Assert.Equal(expectedStatus, status);
        var error = body?["error"];
        Assert.NotNull(error);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)error["type"]));
        Assert.Equal(code, (string?)error["code"]);
        Assert.Equal(param, (string?)error["param"]);
    }
}
