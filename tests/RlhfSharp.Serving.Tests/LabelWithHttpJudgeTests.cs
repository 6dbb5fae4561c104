using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Judges;

namespace RlhfSharp.Serving.Tests;

/// <summary><c>rlhf label</c> with <c>judge: http</c>, the judge being a real <c>rlhf serve</c>.</summary>
[Collection(ServeCollection.Name)]
public sealed class LabelWithHttpJudgeTests(ServerFixture server) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-http-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LabellingAsksTheServerAboutEveryPair()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 20, EvalPrompts = 4, PreferencePairs = 4, TokenizerVocabSize = 300 });
        var config = new LabelConfig
        {
            Data = data,
            Model = server.ModelDir,
            Judge = "http",
            JudgeUrl = server.Address + "v1",
            JudgeModel = ServerFixture.ModelName,
            JudgeApiKeyEnv = ServerFixture.TokenVariable,
            JudgeMaxRetries = 0,
            MaxPrompts = 6,
            MaxNewTokens = 8,
            Threads = 1,
        };

        var summary = Labeller.Run(config, Path.Combine(_dir, "labels"));

        Assert.Equal("http:" + ServerFixture.ModelName, summary["judge"]!.GetValue<string>());
        // 6 prompts x 1 pair: each labelled, a tie, or two identical responses (never sent).
        Assert.Equal(6, summary["pairs"]!.GetValue<int>() + summary["judge_ties"]!.GetValue<int>() + summary["identical_responses"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(null, "tiny")]
    [InlineData("http://127.0.0.1:8000/v1", null)]
    public void JudgeHttpNeedsAUrlAndAModel(string? url, string? model)
    {
        var config = new LabelConfig { Data = "d", Model = "m", Judge = "http", JudgeUrl = url, JudgeModel = model };

        Assert.Contains(((IValidatableConfig)config).Validate(), p => p.Contains("judge_url", StringComparison.Ordinal));
    }
}
