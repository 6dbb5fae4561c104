using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// A model folder loaded for <c>rlhf generate</c> and <c>rlhf chat</c>: the model, its tokenizer and
/// chat template, and one prompt's reply generated with the KV cache, its text given out as the
/// tokens are drawn.
/// </summary>
internal sealed class LocalModel
{
    private readonly CausalLM _model;

    private LocalModel(CausalLM model, BpeTokenizer tokenizer, ChatTemplateChoice template)
    {
        _model = model;
        Tokenizer = tokenizer;
        Template = template;
    }

    public BpeTokenizer Tokenizer { get; }

    public ChatTemplateChoice Template { get; }

    /// <summary>Prompt plus reply tokens the model can attend over.</summary>
    public int MaxPositions => _model.Config.MaxPositions;

    public static LocalModel Load(string modelDir, string? tokenizerDir, string? templateName, string device, string dtype)
    {
        if (!Directory.Exists(modelDir))
            throw new InputException($"{modelDir}: model folder not found (--model); expected an HF model folder with config.json and model.safetensors");
        string tokDir = tokenizerDir ?? modelDir;
        if (!Directory.Exists(tokDir))
            throw new InputException($"{tokDir}: tokenizer folder not found (--tokenizer)");
        var template = ChatTemplateChoice.Resolve(tokDir, templateName);
        var (model, tokenizer) = TrainerSetup.LoadForGeneration(modelDir, tokDir, device, dtype);
        return new LocalModel(model, tokenizer, template);
    }

    /// <summary>Raw text as the model's prompt (BOS/EOS only where the tokenizer's config adds them).</summary>
    public int[] EncodeText(string text) => Tokenizer.Encode(text, addSpecialTokens: true);

    /// <summary>A conversation rendered with the chat template and the assistant header.</summary>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages) => Template.Encode(Tokenizer, messages, addGenerationPrompt: true).Ids;

    /// <summary>
    /// Generates one reply to <paramref name="prompt"/>, drawing from <paramref name="rng"/>. It ends at the tokenizer's EOS, at the chat
    /// template's end of turn when <paramref name="chat"/>, at a stop string (left out), after
    /// <c>MaxNewTokens</c> (capped by the positions left), or when <paramref name="interrupted"/>
    /// turns true. <paramref name="onText"/> gets the reply's text piece by piece as it is drawn;
    /// the pieces join to <see cref="Reply.Text"/>.
    /// </summary>
    public Reply Generate(int[] prompt, Sampling sampling, Generator rng, bool chat, Action<string>? onText = null, Func<bool>? interrupted = null)
    {
        int room = MaxPositions - prompt.Length;
        if (room < 1)
            throw new InputException($"the prompt is {prompt.Length} tokens and the model has {MaxPositions} positions: no room for a reply; shorten the prompt");
        int maxNew = Math.Min(sampling.MaxNewTokens, room);
        int[] stopIds = [.. new[] { Tokenizer.EosTokenId, chat ? Tokenizer.TokenToId(Template.EndOfTurn) : null }.OfType<int>().Distinct()];
        var decoder = new IncrementalDecoder(Tokenizer, sampling.Stop);
        var options = new GenerationOptions
        {
            MaxNewTokens = maxNew,
            DoSample = sampling.Temperature > 0,
            Temperature = sampling.Temperature > 0 ? sampling.Temperature : 1f,
            TopK = sampling.TopK,
            TopP = sampling.TopP,
            EosTokenIds = stopIds,
            PadTokenId = Tokenizer.PadTokenId ?? Tokenizer.EosTokenId ?? 0,
            StopStrings = sampling.Stop,
            Decode = sampling.Stop.Count > 0 ? t => Tokenizer.Decode(t, skipSpecialTokens: true) : null,
            OnToken = onText is null ? null : t =>
            {
                if (!(t.EndsRow && stopIds.Contains(t.Token)) && decoder.Push(t.Token) is { Length: > 0 } piece)
                    onText(piece);
            },
            StopRow = interrupted is null ? null : _ => interrupted(),
        };
        var ids = Tensor.FromArray(prompt, 1, prompt.Length);
        var mask = Tensor.FromArray(Enumerable.Repeat(1f, prompt.Length).ToArray(), 1, prompt.Length);
        var g = Sampler.Generate(_model, ids, mask, options, rng); // [1, P] -> [1, N]
        var row = g.ResponseIds.ToIntArray().AsSpan(0, g.ResponseLengths[0]);
        bool endOfTurn = g.Ended[0] && row.Length > 0 && stopIds.Contains(row[^1]);
        string text = Tokenizer.Decode(endOfTurn ? row[..^1] : row, skipSpecialTokens: true);
        int cut = sampling.Stop.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
            text = text[..cut];
        if (onText is not null)
        {
            // The decoder held back what could still change (a partial character, the start of a
            // stop string); the final text settles it.
            string given = decoder.Emitted;
            if (text.Length > given.Length && text.StartsWith(given, StringComparison.Ordinal))
                onText(text[given.Length..]);
        }
        string finish = g.Stopped[0] ? "interrupted" : g.Ended[0] || cut >= 0 ? "stop" : "length";
        return new Reply(text, finish, row.Length, maxNew < sampling.MaxNewTokens);
    }
}
