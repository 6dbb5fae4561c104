using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Tests;

/// <summary>Tiny models for the <c>rlhf chat</c> tests: a normal one, a short one, and one whose replies never end early.</summary>
public sealed class ChatModelFixture : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chat-").FullName;

    public ChatModelFixture()
    {
        Model = ChatModels.Write(Path.Combine(_dir, "model"));
        Short = ChatModels.Write(Path.Combine(_dir, "short"), maxPositions: 48);
        Endless = ChatModels.Write(Path.Combine(_dir, "endless"), maxPositions: 4096, withEos: false);
    }

    public string Model { get; }

    /// <summary>48 positions: a few turns overflow it.</summary>
    public string Short { get; }

    /// <summary>No EOS and (with the llama3 template) no end-of-turn token: a reply runs to its limit.</summary>
    public string Endless { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary><c>rlhf chat</c> driven through standard input, as a person at a terminal would.</summary>
public sealed class ChatVerbTests(ChatModelFixture fixture) : IClassFixture<ChatModelFixture>
{
    private const int MaxNew = 12;

    // The replies between prompt markers ("> "), in order.
    private static List<string> Replies(string stdout) =>
        [.. stdout.Split(Generating.ChatSession.Prompt).Skip(1).Where(r => r.Length > 0).Select(r => r.EndsWith('\n') ? r[..^1] : r)];

    private static int Prompts(string stdout) => stdout.Split(Generating.ChatSession.Prompt).Length - 1;

    [Fact]
    public void RepliesFollowTheHistoryResetAndSystemPrompt()
    {
        using var chat = ChatProcess.Start("--model", fixture.Model, "--temperature", "0", "--max_new_tokens", MaxNew.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", ChatModels.Threads);
        chat.Send("What is 7 + 5?");
        chat.Send("Sort 3, 1, 2.");
        chat.Send("/reset");
        chat.Send("What is 7 + 5?");
        chat.Send("/system Be brief.");
        chat.Send("/reset");
        chat.Send("What is 7 + 5?");
        chat.CloseInput();
        chat.WaitForExit();

        Assert.Equal(0, chat.ExitCode);
        var replies = Replies(chat.Stdout);
        Assert.Equal(4, replies.Count);
        string first = ChatModels.ChatReply(fixture.Model, [ChatMessage.User("What is 7 + 5?")], MaxNew);
        Assert.Equal(first, replies[0]);
        Assert.Equal(ChatModels.ChatReply(fixture.Model, [ChatMessage.User("What is 7 + 5?"), ChatMessage.Assistant(first), ChatMessage.User("Sort 3, 1, 2.")], MaxNew), replies[1]);
        Assert.Equal(first, replies[2]);
        Assert.Equal(ChatModels.ChatReply(fixture.Model, [ChatMessage.System("Be brief."), ChatMessage.User("What is 7 + 5?")], MaxNew), replies[3]);
        Assert.Contains("(conversation forgotten)", chat.Stderr);
        Assert.Contains("(system prompt set)", chat.Stderr);
    }

    [Fact]
    public void OldTurnsAreDroppedToFitAndTheUserIsTold()
    {
        using var chat = ChatProcess.Start("--model", fixture.Short, "--temperature", "0", "--max_new_tokens", "8", "--system", "Hi.");
        for (int i = 0; i < 4; i++)
            chat.Send($"Count the letters in 'apple' {i}.");
        chat.Send("/help");
        chat.Send("/nonsense");
        chat.Send("/exit");
        chat.WaitForExit();

        Assert.Equal(0, chat.ExitCode);
        Assert.Contains("oldest turn", chat.Stderr);
        Assert.Contains("to fit the model's 48 positions; the system prompt is kept", chat.Stderr);
        Assert.Equal(4, Replies(chat.Stdout).Count);
        Assert.Contains("/reset", chat.Stderr);
        Assert.Contains("(unknown command /nonsense; /help lists them)", chat.Stderr);
    }

    [Fact]
    public void CtrlCStopsAReplyAndTheSessionGoesOn()
    {
        using var chat = ChatProcess.Start("--model", fixture.Endless, "--chat_template", "llama3", "--max_new_tokens", "4000", "--seed", "5");
        chat.WaitForOutput(o => Prompts(o) == 1, "first prompt");
        chat.Send("Tell me a long story.");
        chat.WaitForOutput(o => o.Length > 20, "reply text");
        chat.Interrupt();
        chat.WaitForError("(reply interrupted)");
        chat.WaitForOutput(o => Prompts(o) == 2, "prompt after the interrupted reply");
        chat.Send("And another.");
        chat.WaitForOutput(o => o.Split(Generating.ChatSession.Prompt)[^1].Length > 10, "second reply text");
        chat.Interrupt();
        chat.WaitForOutput(o => Prompts(o) == 3, "prompt after the second reply");
        chat.CloseInput();
        chat.WaitForExit();

        Assert.Equal(0, chat.ExitCode);
        Assert.Equal(2, chat.Stderr.Split("(reply interrupted)").Length - 1);
        Assert.Equal(2, Replies(chat.Stdout).Count(r => r.Length > 0));
    }

    [Fact]
    public void TwoCtrlCsAtThePromptEndTheSession()
    {
        using var chat = ChatProcess.Start("--model", fixture.Model, "--max_new_tokens", "4");
        chat.WaitForOutput(o => Prompts(o) == 1, "first prompt");
        chat.Interrupt();
        chat.WaitForError("Ctrl+C again");
        chat.Interrupt();
        chat.WaitForExit();

        Assert.Equal(0, chat.ExitCode);
        Assert.Contains("bye", chat.Stderr);
    }
}
