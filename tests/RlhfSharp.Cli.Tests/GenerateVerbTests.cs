using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Tests;

/// <summary>A tiny random model for the <c>rlhf generate</c> tests.</summary>
public sealed class GenerateModelFixture : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("generate-").FullName;

    public GenerateModelFixture() => Model = ChatModels.Write(Path.Combine(_dir, "model"));

    public string Model { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary><c>rlhf generate</c> through the real process, compared with the library's generation.</summary>
public sealed class GenerateVerbTests(GenerateModelFixture fixture) : IClassFixture<GenerateModelFixture>
{
    private const string Prompt = "Which is larger, 46 or 96?";

    private (int Code, string Out, string Err) Generate(params string[] args) =>
        ExactRun.Run(["generate", "--model", fixture.Model, "--threads", ChatModels.Threads, .. args]);

    [Fact]
    public void GreedyPrintsExactlyTheLibrarysGreedyCompletion()
    {
        var tokenizer = BpeTokenizer.FromDirectory(fixture.Model);
        string expected = ChatModels.Reply(fixture.Model, tokenizer.Encode(Prompt, addSpecialTokens: true), 24, [tokenizer.EosTokenId!.Value]);

        var (code, output, error) = Generate("--prompt", Prompt, "--temperature", "0", "--max_new_tokens", "24");

        Assert.True(code == 0, error);
        Assert.NotEqual("", expected);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void ChatRendersThePromptWithTheTemplate()
    {
        string expected = ChatModels.ChatReply(fixture.Model, [ChatMessage.System("Be brief."), ChatMessage.User(Prompt)], 16);

        var (code, output, error) = Generate("--prompt", Prompt, "--chat", "--system", "Be brief.", "--temperature", "0", "--max-new-tokens", "16");

        Assert.True(code == 0, error);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void TheSameSeedGivesTheSameSampleAndTheLibrarysDraws()
    {
        var tokenizer = BpeTokenizer.FromDirectory(fixture.Model);
        string library = ChatModels.Reply(fixture.Model, tokenizer.Encode(Prompt, addSpecialTokens: true), 20, [tokenizer.EosTokenId!.Value], temperature: 1f, seed: 42);

        var a = Generate("--prompt", Prompt, "--seed", "42", "--max_new_tokens", "20");
        var b = Generate("--prompt", Prompt, "--seed", "42", "--max_new_tokens", "20");
        var c = Generate("--prompt", Prompt, "--seed", "43", "--max_new_tokens", "20");

        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(library, a.Out);
        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual(a.Out, c.Out);
    }

    [Fact]
    public void StopStringsEndTheCompletionAndAreLeftOut()
    {
        var whole = Generate("--prompt", Prompt, "--temperature", "0", "--max_new_tokens", "24");
        Assert.True(whole.Code == 0, whole.Err);
        Assert.True(whole.Out.Length >= 8, $"the completion '{whole.Out}' is too short to cut");
        string stop = whole.Out.Substring(4, 2);
        string expected = whole.Out[..whole.Out.IndexOf(stop, StringComparison.Ordinal)];

        var cut = Generate("--prompt", Prompt, "--temperature", "0", "--max_new_tokens", "24", "--stop", "no such text", "--stop", stop);

        Assert.True(cut.Code == 0, cut.Err);
        Assert.Equal(expected, cut.Out);
    }

    [Theory]
    [InlineData(new[] { "--temperature", "-1" }, "--temperature must be 0 (greedy) or positive")]
    [InlineData(new[] { "--top_p", "0" }, "--top_p must be in (0, 1]")]
    [InlineData(new[] { "--max_new_tokens", "0" }, "--max_new_tokens must be at least 1")]
    [InlineData(new[] { "--max_new_tokens", "many" }, "many")]
    [InlineData(new[] { "--temprature", "1" }, "Did you mean '--temperature'?")]
    [InlineData(new[] { "--system", "x" }, "--system needs --chat")]
    [InlineData(new[] { "--chat", "--chat_template", "zephyr" }, "chat template 'zephyr' is unknown")]
    public void BadOptionsAreUsageErrors(string[] args, string expected)
    {
        var (code, output, error) = CliRun.Run(["generate", "--model", fixture.Model, "--prompt", Prompt, .. args]);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void AMissingModelFolderIsAUsageError()
    {
        var (code, _, error) = CliRun.Run("generate", "--model", Path.Combine(fixture.Model, "nope"), "--prompt", "hi");

        Assert.Equal(2, code);
        Assert.Contains("model folder not found (--model)", error);
    }
}
