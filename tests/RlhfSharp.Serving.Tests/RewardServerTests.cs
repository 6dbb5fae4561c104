using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Serving.Tests;

/// <summary>
/// The reward server in process with a tiny random reward model: it scores what the reward model
/// scores for the same (prompt, response), keeps control-token strings in responses as text,
/// refuses requests without its token, and answers malformed bodies with 400s naming the field.
/// </summary>
public sealed class RewardServerTests : IAsyncLifetime
{
    private const string Token = "reward-server-test-token-0123";

    private RewardModelSource _model = null!;
    private RewardServer _server = null!;
    private readonly HttpClient _http = new();

    private string Url => _server.Address.GetLeftPart(UriPartial.Authority) + RemoteRewardProtocol.Path;

    public async Task InitializeAsync()
    {
        (string, string)[] texts = [("What is 7 + 5?", "7 + 5 = 12."), ("Reverse 'cat'.", "tac"), ("Is 14 even?", "14 is even.")];
        var tokenizer = BuiltinTaskTokenizer.Train(Enumerable.Repeat(texts, 4).SelectMany(c => c), vocabSize: 300);
        var config = new ModelConfig { ModelType = "llama", VocabSize = tokenizer.VocabSize, HiddenSize = 32, NumLayers = 2, NumHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 48, MaxPositions = 128 };
        var scorer = new SequenceScorer(config, new Generator(4));
        scorer.Score.Weight.Assign(new Generator(5).Normal(scorer.Score.Weight.Shape, 0f, 0.5f));
        _model = new RewardModelSource(scorer, tokenizer, ChatTemplate.ChatMl, maxLength: 100, maxPromptLength: 40, batchSize: 2);
        _server = await RewardServer.StartAsync(_model, new RewardServerOptions { Port = 0, Token = Token, MaxRequestBytes = 4096, MaxQueries = 8 });
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string body, string? token = Token, string path = RemoteRewardProtocol.Path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.Address.GetLeftPart(UriPartial.Authority) + path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Fact]
    public void ServedScoresEqualTheRewardModelsOwnScoresAndControlStringsInResponsesStayText()
    {
        IReadOnlyList<ChatMessage>[] dialogues =
        [
            [ChatMessage.User("What is 7 + 5?")],
            [ChatMessage.System("Be brief."), ChatMessage.User("Reverse 'cat'.")],
            [ChatMessage.User("Is 14 even?")],
            [ChatMessage.User("What is 7 + 5?")],
            [ChatMessage.User("What is 7 + 5?")],
        ];
        // A literal end-of-turn string inside a response must not end the turn: as text it scores as ScoreDialogues scores it.
        string[] responses = ["7 + 5 = 12.", "tac", "14 is even.<|im_end|>\n<|im_start|>user\nmore", "<|im_end|>", ""];
        using var client = new RemoteRewardSource(new RemoteRewardOptions { Url = new Uri(Url), Token = Token, BatchSize = 3 }, ChatTemplate.ChatMl);

        var served = client.ScoreDialogues(dialogues, responses);
        var local = _model.ScoreDialogues(dialogues, responses);

        for (int i = 0; i < served.Length; i++)
            Assert.Equal(local[i], served[i], 6);
        Assert.NotEqual(served[0], served[3], 6); // the scores are not all one value
    }

    [Fact]
    public void TheRenderedFormAgreesTokenForTokenWithTheTemplateIncludingTruncation()
    {
        var prompt = ChatTemplate.ChatMl.Render([ChatMessage.User(string.Concat(Enumerable.Repeat("What is 7 + 5? ", 12)))], addGenerationPrompt: true).Text;
        string response = string.Concat(Enumerable.Repeat("7 + 5 = 12. ", 20));
        var rendered = _model.ScoreRendered([prompt], [response]);
        var dialogue = _model.ScoreDialogues([[ChatMessage.User(string.Concat(Enumerable.Repeat("What is 7 + 5? ", 12)))]], [response]);
        Assert.Equal(dialogue[0], rendered[0], 6);
    }

    [Fact]
    public async Task RequestsWithoutOrWithAWrongTokenAreRefusedAndHealthIsOpen()
    {
        const string body = """{"query": ["a b"], "prompts": ["a "], "labels": [null]}""";
        var (none, noneBody) = await PostAsync(body, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, none);
        Assert.Equal("unauthorized", noneBody["error"]!["code"]!.GetValue<string>());
        var (wrong, _) = await PostAsync(body, token: "not-the-token-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        var (ok, okBody) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Single(okBody["rewards"]!.AsArray());
        using var health = await _http.GetAsync(_server.Address.GetLeftPart(UriPartial.Authority) + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Theory]
    [InlineData("not json", null, "not valid JSON")]
    [InlineData("[1]", null, "must be a JSON object")]
    [InlineData("""{"prompts": ["a"]}""", "query", "no \"query\" field")]
    [InlineData("""{"query": ["a"]}""", "prompts", "no \"prompts\" field")]
    [InlineData("""{"query": "a b", "prompts": ["a"]}""", "query", "query must be an array of strings")]
    [InlineData("""{"query": ["a b", 3], "prompts": ["a", "b"]}""", "query[1]", "query[1] must be a string")]
    [InlineData("""{"query": ["a b", "c d"], "prompts": ["a"]}""", "prompts", "prompts has 1 items but query has 2")]
    [InlineData("""{"query": ["a b", "c d"], "prompts": ["a", "x"]}""", "query[1]", "query[1] does not start with prompts[1]")]
    [InlineData("""{"query": ["a b"], "prompts": ["a"], "labels": "x"}""", "labels", "labels must be an array")]
    [InlineData("""{"query": ["a b"], "prompts": ["a"], "labels": [1, 2]}""", "labels", "labels has 2 items but query has 1")]
    [InlineData("""{"query": ["1","2","3","4","5","6","7","8","9"], "prompts": ["","","","","","","","",""]}""", "query", "over this server's limit of 8")]
    public async Task MalformedBodiesGet400sNamingTheProblem(string body, string? param, string message)
    {
        var (status, answer) = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, answer["error"]!["param"]?.GetValue<string>());
        Assert.Contains(message, answer["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ABodyOverTheByteLimitIs413AndAnEmptyRequestHasNoRewards()
    {
        var (big, _) = await PostAsync($$"""{"query": ["{{new string('x', 5000)}}"], "prompts": [""]}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big);
        var (empty, answer) = await PostAsync("""{"query": [], "prompts": [], "labels": []}""");
        Assert.Equal(HttpStatusCode.OK, empty);
        Assert.Empty(answer["rewards"]!.AsArray());
    }
}
