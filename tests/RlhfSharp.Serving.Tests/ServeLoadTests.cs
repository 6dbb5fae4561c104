using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// Many concurrent requests on loopback: every one answered, each with its own answer. Throughput
/// is reported in the test output, never asserted.
/// </summary>
[Collection(ServeCollection.Name)]
public sealed partial class ServeLoadTests(ServerFixture server, ITestOutputHelper output)
{
    private const int Requests = 32;
    private const int InFlight = 8;

    [Fact]
    public async Task ConcurrentGreedyRequestsAllSucceedAndMatchTheirSoloAnswers()
    {
        // Prompts of different lengths, so batched rows are left-padded by different amounts.
        var prompts = Enumerable.Range(0, Requests)
            .Select(i => $"Request {i}: {string.Join(' ', Enumerable.Repeat("count", i % 7))} what is {i} + {i * 3 % 11}?")
            .ToArray();
        var solo = new (string Text, int PromptTokens)[Requests];
        for (int i = 0; i < Requests; i++)
            solo[i] = Answer(await server.ChatAsync(ServerFixture.GreedyRequest(prompts[i])));
        int batchLines = BatchSizes().Count;

        using var gate = new SemaphoreSlim(InFlight);
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(prompts.Select(async prompt =>
        {
            await gate.WaitAsync();
            try
            {
                return await server.ChatAsync(ServerFixture.GreedyRequest(prompt));
            }
            finally
            {
                gate.Release();
            }
        }));
        clock.Stop();

        var statuses = answers.Select(a => a.Status).ToArray();
        Assert.All(statuses, s => Assert.Equal(200, s));
        for (int i = 0; i < Requests; i++)
            Assert.Equal(solo[i], Answer(answers[i]));
        var batches = BatchSizes().Skip(batchLines).ToList();
        output.WriteLine($"{Requests} requests, {InFlight} in flight: {clock.Elapsed.TotalSeconds:F3} s, {Requests / clock.Elapsed.TotalSeconds:F1} requests/s");
        output.WriteLine($"served in {batches.Count} batches (sizes {string.Join(", ", batches)})");
    }

    private static (string Text, int PromptTokens) Answer((int Status, JsonNode? Body) answer)
    {
        Assert.Equal(200, answer.Status);
        return ((string)answer.Body!["choices"]![0]!["message"]!["content"]!, (int)answer.Body["usage"]!["prompt_tokens"]!);
    }

    private List<int> BatchSizes() =>
        [.. BatchLine().Matches(server.Stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"^batch \d+: (\d+) request", RegexOptions.Multiline)]
    private static partial Regex BatchLine();
}
