using System.CommandLine;
using RlhfSharp.Cli.Generating;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf tokenize --tokenizer DIR</c>: text to token ids and back, with the tokenizer a model
/// uses. Output ends as follows: id arrays and <c>--file</c> results are one JSON value per line,
/// each line ending in a newline; <c>--render</c> and <c>--decode --text</c> print the text itself,
/// exactly, with nothing added (pipe it on, or compare it, byte for byte).
/// </summary>
public sealed class TokenizeCommand : IVerb
{
    public Command CreateCommand()
    {
        var tokenizer = Flags.Create<string>("tokenizer", "Tokenizer folder: tokenizer.json (+ tokenizer_config.json), or GPT-2's encoder.json + vocab.bpe; a model folder works", "DIR");
        tokenizer.Required = true;
        var text = Flags.Create<string>("text", "The text to encode (with --decode: a JSON array of ids)", "TEXT");
        var file = Flags.Create<string>("file", "Encode each line of FILE: one JSON array of ids per line (with --decode: one array per line in, one JSON string per line out)", "FILE");
        var messages = Flags.Create<string>("messages", "Encode a conversation: a JSON file {\"messages\": [{\"role\", \"content\"}...], \"tools\": [...]} rendered with the chat template", "FILE");
        var decode = Flags.Create<bool>("decode", "Ids in, text out: --text prints the text exactly (no newline added); --file prints one JSON string per line");
        var render = Flags.Create<bool>("render", "With --messages: print the rendered text itself, exactly as the template wrote it (no newline added), instead of its ids");
        var generationPrompt = Flags.Create<bool>("add_generation_prompt", "With --messages: end with the header that asks for an assistant turn");
        var template = Flags.Create<string>("chat_template", $"With --messages: {ChatTemplateChoice.Help} [default: {ChatTemplateChoice.DefaultName}]", "NAME");
        var command = new Command("tokenize", "Text to token ids and back (one JSON array per line), or a conversation rendered with its chat template")
        {
            tokenizer, text, file, messages, decode, render, generationPrompt, template,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            string? textValue = parse.GetValue(text), fileValue = parse.GetValue(file), messagesValue = parse.GetValue(messages);
            int given = new[] { textValue, fileValue, messagesValue }.Count(v => v is not null);
            if (given != 1)
                throw new InputException($"give exactly one of --text TEXT, --file FILE or --messages FILE ({(given == 0 ? "none" : "several")} given)");
            bool isDecode = parse.GetValue(decode), isRender = parse.GetValue(render), isPrompt = parse.GetValue(generationPrompt);
            if (messagesValue is null && (isRender || isPrompt || parse.GetValue(template) is not null))
                throw new InputException("--render, --add_generation_prompt and --chat_template apply to --messages FILE only");
            if (messagesValue is not null && isDecode)
                throw new InputException("--decode reads ids (--text or --file), not --messages; drop one of them");

            string dir = parse.GetValue(tokenizer)!;
            if (!Directory.Exists(dir))
                throw new InputException($"{dir}: tokenizer folder not found (--tokenizer); expected a folder with tokenizer.json, or encoder.json and vocab.bpe");
            var tok = BpeTokenizer.FromDirectory(dir);

            if (messagesValue is not null)
            {
                var choice = ChatTemplateChoice.Resolve(dir, parse.GetValue(template));
                var chat = MessagesFile.Read(messagesValue, anyFields: choice.RendersAnyMessage);
                RenderedChat rendered;
                try
                {
                    rendered = choice.Render(chat.Json, chat.Tools, isPrompt);
                }
                catch (ChatTemplateException e)
                {
                    throw new InputException($"{messagesValue}: {e.Message}", e);
                }
                if (isRender)
                    output.Write(rendered.Text);
                else
                    output.Write(IdLines.Format(rendered.Encode(tok).Ids) + "\n");
            }
            else if (textValue is not null)
            {
                if (isDecode)
                    output.Write(tok.Decode(IdLines.Parse(textValue, "--text", tok)));
                else
                    output.Write(IdLines.Format(tok.Encode(textValue, addSpecialTokens: true)) + "\n");
            }
            else
            {
                EachLine(fileValue!, (line, where) => output.Write(
                    (isDecode ? System.Text.Json.JsonSerializer.Serialize(tok.Decode(IdLines.Parse(line, where, tok)), Json.Relaxed)
                        : IdLines.Format(tok.Encode(line, addSpecialTokens: true))) + "\n"));
            }
            output.Flush();
            return ExitCodes.Success;
        });
        return command;
    }

    // Each line of the file (without its line break), named "FILE: line N" in errors.
    private static void EachLine(string path, Action<string, string> each)
    {
        if (!File.Exists(path))
            throw new InputException($"{path}: file not found (--file)");
        using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        int n = 0;
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (System.Text.DecoderFallbackException e)
            {
                throw new InputException($"{path}: line {n + 1}: not valid UTF-8 text; save the file as UTF-8", e);
            }
            if (line is null)
                break;
            each(line, $"{path}: line {++n}");
        }
    }
}
