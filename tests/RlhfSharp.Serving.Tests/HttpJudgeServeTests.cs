using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Judges;

namespace RlhfSharp.Serving.Tests;

/// <summary>The HTTP judge end to end against a real <c>rlhf serve</c> process.</summary>
[Collection(ServeCollection.Name)]
public sealed class HttpJudgeServeTests(ServerFixture server)
{
    private HttpJudge Judge() => new(new HttpJudgeOptions
    {
        BaseUrl = server.Address + "v1",
        Model = ServerFixture.ModelName,
        ApiKeyEnvironmentVariable = ServerFixture.TokenVariable,
        Timeout = TimeSpan.FromSeconds(30),
        MaxRetries = 1,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        MaxTokens = 4,
    });

    [Fact]
    public async Task AGoodExchangeGivesOneVerdictPerItem()
    {
        JudgeItem[] items =
        [
            new([ChatMessage.User("What is 7 + 5?")], "7 + 5 = 12.", "It is 13, obviously."),
            new([ChatMessage.User("Is 14 even or odd?")], "14 is even.", "odd"),
            new([ChatMessage.System("Be brief."), ChatMessage.User("Sort 3, 1, 2.")], "1, 2, 3", "Sorted: 3, 2, 1."),
        ];
        using var judge = Judge();

        IPreferenceJudge asInterface = judge; // the synchronous entry point the labeller calls
        var verdicts = await Task.Run(() => asInterface.Judge(items)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(items.Length, verdicts.Count);
        Assert.All(verdicts, v => Assert.True(Enum.IsDefined(v)));
    }

    [Fact]
    public async Task ARequestTheServerRefusesFailsAtOnceWithItsStatus()
    {
        var huge = new JudgeItem([ChatMessage.User(new string('x', ServerFixture.MaxRequestBytes))], "a", "b");
        using var judge = Judge();

        var e = await Assert.ThrowsAsync<JudgeHttpException>(() => judge.JudgeAsync([huge]).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(JudgeHttpErrorKind.HttpStatus, e.Kind);
        Assert.Equal(413, e.StatusCode);
        Assert.Equal(1, e.Attempts);
        Assert.Contains("max_request_bytes", e.Message);
    }
}
