using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Serving.Tests;

/// <summary>One <c>rlhf serve</c> process with a tiny random model, shared by the tests of the "rlhf serve" collection.</summary>
public sealed class ServerFixture : IDisposable
{
    public const string ModelName = "tiny";
    public const int MaxRequestBytes = 32 * 1024;

    /// <summary>The environment variable of this test process that holds the server's token, for the HTTP judge.</summary>
    public const string TokenVariable = "RLHFSHARP_TEST_SERVE_TOKEN";

    private readonly string _dir = Directory.CreateTempSubdirectory("serve-").FullName;
    private readonly RlhfProcess _server;

    public ServerFixture()
    {
        ModelDir = Path.Combine(_dir, "model");
        TinyModel.Write(ModelDir);
        _server = ServeProcess.Start("--model", ModelDir, "--port", "0", "--max_batch", "8", "--model_name", ModelName,
            "--max_request_bytes", MaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--log_batches", "--threads", "1");
        Token = _server.Token ?? throw new InvalidOperationException($"rlhf serve printed no access token:\n{_server.Stdout}");
        Environment.SetEnvironmentVariable(TokenVariable, Token);
        Client = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    /// <summary>The access token the server printed; <see cref="Client"/> sends it.</summary>
    public string Token { get; }

    public string ModelDir { get; }

    public Uri Address => _server.Address;

    public HttpClient Client { get; }

    /// <summary>The server's standard error (one line per batch).</summary>
    public string Stderr => _server.Stderr;

    /// <summary>POSTs <paramref name="body"/> as JSON to /v1/chat/completions; returns the status and the parsed answer.</summary>
    public async Task<(int Status, JsonNode? Body)> ChatAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.PostAsync("/v1/chat/completions", content);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    /// <summary>A greedy request for one user message.</summary>
    public static string GreedyRequest(string prompt, int maxTokens = 8) => new JsonObject
    {
        ["model"] = ModelName,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
    }.ToJsonString();

    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"HTTP {(int)response.StatusCode} with a body that is not JSON: {text}");
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ServeCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "rlhf serve";
}
