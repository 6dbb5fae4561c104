using System.Runtime.InteropServices;
using System.Threading.Channels;
using RlhfSharp.Tensors;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// The loop of <c>rlhf chat</c>. Standard output carries the prompt marker (<c>"> "</c>) and the
/// replies, streamed as they are drawn, each ended by a newline; notes (history dropped, commands
/// done, a reply interrupted) go to standard error. Ctrl+C during a reply stops that reply and
/// keeps the session (the partial reply stays in the history); at the prompt it asks for a second
/// Ctrl+C, which ends the session, as does the end of input or <c>/exit</c>.
/// </summary>
internal sealed class ChatSession
{
    public const string Prompt = "> ";

    public const string Help = """
        /system TEXT   set the system prompt (kept when old turns are dropped); /system alone clears it
        /reset         forget the conversation (the system prompt stays)
        /help          this list
        /exit          end the session (so do the end of input and Ctrl+C twice at the prompt)
        Ctrl+C during a reply stops the reply; the session goes on.
        """;

    private readonly LocalModel _model;
    private readonly Sampling _sampling;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ChatHistory _history = new();
    private readonly Generator _rng;
    private readonly Channel<Input> _inputs = Channel.CreateUnbounded<Input>();
    private volatile bool _replying;
    private volatile bool _interrupted;

    public ChatSession(LocalModel model, Sampling sampling, string? system, TextWriter output, TextWriter error)
    {
        _model = model;
        _sampling = sampling;
        _output = output;
        _error = error;
        _history.System = system;
        _rng = sampling.NewGenerator();
    }

    /// <summary>Runs until /exit, the end of <paramref name="input"/> or a second Ctrl+C at the prompt.</summary>
    public void Run(TextReader input)
    {
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnInterrupt);
        var reader = new Thread(() => ReadLines(input)) { IsBackground = true, Name = "rlhf-chat-input" };
        reader.Start();
        _error.WriteLine($"chat with {_model.Template.Source}, {_model.MaxPositions} positions; /help lists the commands; Ctrl+C stops a reply");
        bool askedToQuit = false;
        while (true)
        {
            _output.Write(Prompt);
            _output.Flush();
            var next = _inputs.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            if (next.Kind == InputKind.End)
                break;
            if (next.Kind == InputKind.Interrupt)
            {
                _output.WriteLine();
                if (askedToQuit)
                    break;
                _error.WriteLine("(Ctrl+C again, /exit or the end of input ends the session)");
                askedToQuit = true;
                continue;
            }
            askedToQuit = false;
            string line = next.Line!;
            if (line.StartsWith('/'))
            {
                if (!Command(line))
                    break;
                continue;
            }
            if (line.Trim().Length == 0)
                continue;
            Reply(line);
        }
        _output.Flush();
        _error.WriteLine("bye");
    }

    // A slash command; false ends the session.
    private bool Command(string line)
    {
        string name = line.Split(' ', 2)[0];
        string rest = line.Length > name.Length ? line[(name.Length + 1)..].Trim() : "";
        switch (name)
        {
            case "/exit" or "/quit":
                return false;
            case "/reset":
                _history.Reset();
                _error.WriteLine("(conversation forgotten)");
                break;
            case "/system":
                _history.System = rest.Length == 0 ? null : rest;
                _error.WriteLine(rest.Length == 0 ? "(system prompt cleared)" : "(system prompt set)");
                break;
            case "/help":
                _error.WriteLine(Help);
                break;
            default:
                _error.WriteLine($"(unknown command {name}; /help lists them)");
                break;
        }
        return true;
    }

    private void Reply(string user)
    {
        int positions = _model.MaxPositions;
        int budget = positions - Math.Min(_sampling.MaxNewTokens, positions / 2);
        int dropped = _history.Fit(user, m => _model.EncodeChat(m).Length, budget);
        if (dropped < 0)
        {
            _error.WriteLine($"(that message is too long: with the system prompt it leaves no room for a reply in the model's {positions} positions; send a shorter one)");
            return;
        }
        if (dropped > 0)
            _error.WriteLine($"(dropped the {dropped} oldest turn{(dropped == 1 ? "" : "s")} to fit the model's {positions} positions; the system prompt is kept)");
        _interrupted = false;
        _replying = true;
        Reply reply;
        try
        {
            reply = _model.Generate(_model.EncodeChat(_history.With(user)), _sampling, _rng, chat: true, piece =>
            {
                _output.Write(piece);
                _output.Flush();
            }, () => _interrupted);
        }
        finally
        {
            _replying = false;
        }
        _output.WriteLine();
        if (reply.FinishReason == "interrupted")
            _error.WriteLine("(reply interrupted)");
        else if (reply.FinishReason == "length")
            _error.WriteLine($"(reply cut at {reply.Tokens} tokens)");
        _history.Add(user, reply.Text);
    }

    private void OnInterrupt(PosixSignalContext context)
    {
        context.Cancel = true;
        if (_replying)
            _interrupted = true;
        else
            _inputs.Writer.TryWrite(new Input(InputKind.Interrupt, null));
    }

    private void ReadLines(TextReader input)
    {
        while (input.ReadLine() is { } line)
            _inputs.Writer.TryWrite(new Input(InputKind.Line, line));
        _inputs.Writer.TryWrite(new Input(InputKind.End, null));
    }

    private enum InputKind
    {
        Line,
        Interrupt,
        End,
    }

    private sealed record Input(InputKind Kind, string? Line);
}
