using System.CommandLine;
using RlhfSharp.Cli.Generating;
using RlhfSharp.Cli.Verbs;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf chat --model DIR</c>: an interactive chat in the terminal (see <see cref="ChatSession"/>):
/// replies stream as they are drawn, the conversation is kept within the model's length, and
/// <c>/reset</c>, <c>/system</c>, <c>/help</c> and <c>/exit</c> steer it.
/// </summary>
public sealed class ChatCommand : IVerb
{
    public Command CreateCommand()
    {
        var flags = new SamplingFlags();
        var system = Flags.Create<string>("system", "The system prompt to start with (/system changes it)", "TEXT");
        var command = new Command("chat", "Chat with a model in the terminal: replies stream as they are drawn; /help lists the commands, Ctrl+C stops a reply") { system };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var sampling = flags.Read(parse);
            var model = flags.Load(parse);
            new ChatSession(model, sampling, parse.GetValue(system), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)
                .Run(Console.In);
            return ExitCodes.Success;
        });
        return command;
    }
}
