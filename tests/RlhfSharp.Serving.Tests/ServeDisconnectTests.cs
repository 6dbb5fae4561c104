using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Serving.Tests;

/// <summary>A streaming client that goes away stops its generation.</summary>
public sealed class ServeDisconnectTests : IDisposable
{
    private const int MaxTokens = 4000;

    private readonly string _dir = Directory.CreateTempSubdirectory("serve-cancel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task DisconnectingMidStreamCancelsTheGenerationAndFreesTheWorker()
    {
        string model = Path.Combine(_dir, "model");
        TinyModel.Write(model, maxPositions: MaxTokens + 256, withEos: false);
        using var process = ServeProcess.Start("--model", model, "--port", "0", "--chat_template", "llama3", "--log_batches", "--threads", "1");
        string token = process.Token!;
        string body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Tell me a long story." }),
            ["max_tokens"] = MaxTokens,
            ["temperature"] = 0,
            ["stream"] = true,
        }.ToJsonString();

        // A raw connection, closed as soon as the first text arrives: the answer can only end early if the server notices.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(process.Address.Host, process.Address.Port);
            var stream = tcp.GetStream();
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            string head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {process.Address.Authority}\r\nAuthorization: Bearer {token}\r\n" +
                $"Content-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(bytes);
            var received = new StringBuilder();
            var buffer = new byte[4096];
            using var limit = new CancellationTokenSource(RlhfProcess.Limit);
            while (!received.ToString().Contains("\"content\":\"", StringComparison.Ordinal) || received.ToString().Split("\"content\":\"").Length < 3)
            {
                int n;
                try
                {
                    n = await stream.ReadAsync(buffer, limit.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new Xunit.Sdk.XunitException($"no text within {RlhfProcess.Limit}; received:\n{received}\nserver:\n{process.Stderr}");
                }
                Assert.True(n > 0, $"the server closed the stream early: {received}");
                received.Append(Encoding.UTF8.GetString(buffer, 0, n));
                if (received.Length >= 12)
                    Assert.StartsWith("HTTP/1.1 200", received.ToString());
            }
            Assert.StartsWith("HTTP/1.1 200", received.ToString());
            tcp.Client.Shutdown(SocketShutdown.Both);
        }

        // The one worker answers the next request, and its log says the first was cancelled short of its tokens.
        using var client = new HttpClient { BaseAddress = process.Address, Timeout = RlhfProcess.Limit };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var next = new StringContent(ServerFixture.GreedyRequest("What is 7 + 5?", maxTokens: 4).Replace("\"model\":\"tiny\",", ""), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/v1/chat/completions", next);
        Assert.Equal(200, (int)response.StatusCode);

        var deadline = DateTime.UtcNow + RlhfProcess.Limit;
        while (!process.Stderr.Contains("batch 2:", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        string first = process.Stderr.Split('\n').Single(l => l.StartsWith("batch 1:", StringComparison.Ordinal));
        Assert.EndsWith(", 1 cancelled by the client", first);
        int drawn = int.Parse(first.Split(" new tokens")[0].Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(drawn, 1, MaxTokens - 1);
    }
}
