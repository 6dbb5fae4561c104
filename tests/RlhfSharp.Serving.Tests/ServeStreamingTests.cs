using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Serving.Tests;

/// <summary><c>stream: true</c> on a real <c>rlhf serve</c>: server-sent events in OpenAI's chunk format.</summary>
[Collection(ServeCollection.Name)]
public sealed class ServeStreamingTests(ServerFixture server)
{
    private static string Request(bool stream, int maxTokens, double temperature, long? seed = null, string? stop = null, bool usage = false)
    {
        var body = new JsonObject
        {
            ["model"] = ServerFixture.ModelName,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Count the letters in 'apple'." }),
            ["max_tokens"] = maxTokens,
            ["temperature"] = temperature,
            ["stream"] = stream,
        };
        if (seed is long s)
            body["seed"] = s;
        if (stop is not null)
            body["stop"] = stop;
        if (usage)
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        return body.ToJsonString();
    }

    /// <summary>POSTs a streaming request and reads its events one by one as they arrive; returns their data fields.</summary>
    private async Task<List<string>> StreamAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
                continue;
            Assert.StartsWith("data: ", line);
            events.Add(line["data: ".Length..]);
            if (events[^1] == "[DONE]")
                break;
        }
        Assert.Equal("", (await reader.ReadToEndAsync()).Trim()); // nothing after [DONE]
        return events;
    }

    [Theory]
    [InlineData(1.0, 1234L, null)]
    [InlineData(0.0, null, null)]
    [InlineData(0.0, null, "e")]
    public async Task TheChunksJoinToTheSameTextAsTheWholeAnswer(double temperature, long? seed, string? stop)
    {
        var (status, whole) = await server.ChatAsync(Request(false, 24, temperature, seed, stop));
        Assert.Equal(200, status);
        var events = await StreamAsync(Request(true, 24, temperature, seed, stop));

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.All(chunks, c => Assert.Equal(ServerFixture.ModelName, (string?)c["model"]));
        Assert.Single(chunks.Select(c => (string?)c["id"]).Distinct());
        var choices = chunks.Select(c => Assert.Single(c["choices"]!.AsArray())!).ToList();
        Assert.Equal("assistant", (string?)choices[0]["delta"]!["role"]);
        Assert.All(choices.Skip(1), c => Assert.Null(c["delta"]!["role"]));
        Assert.All(choices.SkipLast(1), c => Assert.Null((string?)c["finish_reason"]));
        Assert.Equal((string?)whole!["choices"]![0]!["finish_reason"], (string?)choices[^1]["finish_reason"]);
        string joined = string.Concat(choices.Select(c => (string?)c["delta"]!["content"] ?? ""));
        Assert.Equal((string?)whole["choices"]![0]!["message"]!["content"], joined);
        if (stop is null)
            Assert.True(choices.Count(c => ((string?)c["delta"]!["content"])?.Length > 0) > 1, "the text came in one piece");
    }

    [Fact]
    public async Task UsageComesLastWhenAskedFor()
    {
        var (_, whole) = await server.ChatAsync(Request(false, 10, 0));
        var events = await StreamAsync(Request(true, 10, 0, usage: true));

        var usage = JsonNode.Parse(events[^2])!;
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal((int)whole!["usage"]!["completion_tokens"]!, (int)usage["usage"]!["completion_tokens"]!);
        Assert.Equal((int)whole["usage"]!["prompt_tokens"]!, (int)usage["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task StreamingNeedsTheTokenAsEverythingElse()
    {
        using var client = new HttpClient { BaseAddress = server.Address };
        using var content = new StringContent(Request(true, 4, 0), Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/v1/chat/completions", content);

        Assert.Equal(401, (int)response.StatusCode);
    }
}
