using System.CommandLine;
using RlhfSharp.Cli.Generating;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf generate --model DIR --prompt "..."</c>: the model continues the prompt. Standard output
/// gets the completion alone, streamed as it is drawn, exactly (no newline is added); notes go to
/// standard error. The prompt is raw text unless <c>--chat</c> renders it as a user turn with the
/// chat template.
/// </summary>
public sealed class GenerateCommand : IVerb
{
    public Command CreateCommand()
    {
        var flags = new SamplingFlags();
        var prompt = Flags.Create<string>("prompt", "The prompt: raw text the model continues, or with --chat the user's message", "TEXT");
        prompt.Required = true;
        var chat = Flags.Create<bool>("chat", "Render the prompt as a user turn with the chat template, followed by the assistant header; the reply ends at the template's end of turn");
        var system = Flags.Create<string>("system", "With --chat: a system message before the prompt", "TEXT");
        var command = new Command("generate", "Complete a prompt with a model and print only the completion (greedy with --temperature 0)") { prompt, chat, system };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            bool isChat = parse.GetValue(chat);
            string? systemText = parse.GetValue(system);
            if (systemText is not null && !isChat)
                throw new InputException("--system needs --chat: a raw prompt has no system turn");
            var sampling = flags.Read(parse);
            var model = flags.Load(parse);
            string text = parse.GetValue(prompt)!;
            int[] ids = isChat
                ? model.EncodeChat([.. systemText is null ? Array.Empty<ChatMessage>() : [ChatMessage.System(systemText)], ChatMessage.User(text)])
                : model.EncodeText(text);
            if (ids.Length == 0)
                throw new InputException("--prompt encodes to no tokens; give some text (or --chat, which adds the template's markup)");
            var reply = model.Generate(ids, sampling, sampling.NewGenerator(), isChat, piece =>
            {
                output.Write(piece);
                output.Flush();
            });
            if (reply.Capped)
                error.WriteLine($"note: max_new_tokens cut to {model.MaxPositions - ids.Length}: the prompt's {ids.Length} tokens leave that many of the model's {model.MaxPositions} positions");
            output.Flush();
            return ExitCodes.Success;
        });
        return command;
    }
}
