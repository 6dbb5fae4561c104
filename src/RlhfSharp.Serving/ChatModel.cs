using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Serving;

/// <summary>
/// The served model with its tokenizer and chat template: renders conversations to prompt ids
/// (thread-safe) and generates a batch of answers (one caller at a time: the server's worker).
/// A row ends at the tokenizer's EOS or at the template's end-of-turn token, whichever comes first.
/// </summary>
public sealed class ChatModel
{
    private readonly CausalLM _model;
    private readonly BpeTokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly int[] _stopIds;
    private readonly int _padId;

    public ChatModel(CausalLM model, BpeTokenizer tokenizer, ChatTemplate template, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _model = model;
        _tokenizer = tokenizer;
        _template = template;
        Name = name;
        _stopIds = [.. new[] { tokenizer.EosTokenId, tokenizer.TokenToId(template.EndOfTurn) }.OfType<int>().Distinct()];
        _padId = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0;
    }

    /// <summary>Loads an HF model folder (and its tokenizer, or the one in <paramref name="tokenizerDir"/>).</summary>
    public static ChatModel Load(string modelDir, string? tokenizerDir = null, string template = ChatTemplateChoice.DefaultName, string? name = null, string device = "cpu", string dtype = "fp32")
    {
        TrainerSetup.RequireDir(modelDir, "model");
        string tokDir = tokenizerDir ?? modelDir;
        if (!Directory.Exists(tokDir))
            throw new TrainingSetupException($"{tokDir}: tokenizer folder not found (config key 'tokenizer')");
        var chat = TrainerSetup.Template(template, tokDir);
        var (model, tokenizer) = TrainerSetup.LoadForGeneration(modelDir, tokDir, device, dtype);
        return new ChatModel(model, tokenizer, chat, name ?? new DirectoryInfo(Path.GetFullPath(modelDir)).Name);
    }

    /// <summary>The name /v1/models reports.</summary>
    public string Name { get; }

    /// <summary>Prompt plus response tokens the model can attend over.</summary>
    public int MaxPositions => _model.Config.MaxPositions;

    /// <summary>
    /// The conversation rendered with the generation prompt appended, as token ids. What the
    /// messages say is encoded as text, so only the template writes control tokens: a client
    /// cannot end its own turn or write the assistant's.
    /// </summary>
    public int[] EncodePrompt(IReadOnlyList<ChatMessage> messages) =>
        _template.Encode(_tokenizer, messages, addGenerationPrompt: true).Ids;

    /// <summary>
    /// Generates one answer per prompt in a single batch: the prompts are left-padded to the
    /// longest, so every row's tokens sit at the same positions as they would alone. A row whose
    /// <paramref name="watchers"/> entry has a text callback gets its answer's text piece by piece as
    /// it is drawn (the pieces join to the answer's text); a row whose cancellation token fires
    /// stops there. Without watchers, or with watchers that neither stream nor cancel, the tokens
    /// drawn are the same.
    /// </summary>
    internal IReadOnlyList<Completion> Generate(IReadOnlyList<int[]> prompts, SamplingSettings sampling, Generator rng, IReadOnlyList<RowWatcher>? watchers = null)
    {
        int b = prompts.Count, p = prompts.Max(r => r.Length);
        var ids = new int[b * p];
        var mask = new float[b * p];
        for (int r = 0; r < b; r++)
        {
            int offset = (r * p) + p - prompts[r].Length;
            ids.AsSpan(r * p, p).Fill(_padId);
            prompts[r].CopyTo(ids.AsSpan(offset));
            mask.AsSpan(offset, prompts[r].Length).Fill(1f);
        }
        var decoders = new IncrementalDecoder?[b];
        for (int r = 0; r < b; r++)
        {
            if (watchers?[r].OnText is not null)
                decoders[r] = new IncrementalDecoder(_tokenizer, sampling.Stop);
        }
        var options = new GenerationOptions
        {
            MaxNewTokens = sampling.MaxTokens,
            DoSample = !sampling.Greedy,
            Temperature = sampling.Greedy ? 1f : sampling.Temperature,
            TopP = sampling.Greedy ? 1f : sampling.TopP,
            EosTokenIds = _stopIds,
            PadTokenId = _padId,
            StopStrings = sampling.Stop,
            Decode = sampling.Stop.Count > 0 ? t => _tokenizer.Decode(t, skipSpecialTokens: true) : null,
            OnToken = decoders.Any(d => d is not null) ? t => Stream(t, decoders[t.Row], watchers![t.Row]) : null,
            StopRow = watchers is null ? null : r => watchers[r].Aborted.IsCancellationRequested,
        };
        var g = Sampler.Generate(_model, Tensor.FromArray(ids, b, p), Tensor.FromArray(mask, b, p), options, rng); // [B, P] -> [B, N]
        var response = g.ResponseIds.ToIntArray();
        int n = g.ResponseIds.Size(1);
        var results = new Completion[b];
        for (int r = 0; r < b; r++)
        {
            int length = g.ResponseLengths[r];
            var row = response.AsSpan(r * n, length);
            bool endOfTurn = g.Ended[r] && length > 0 && _stopIds.Contains(row[length - 1]);
            string text = _tokenizer.Decode(endOfTurn ? row[..^1] : row, skipSpecialTokens: true);
            int cut = sampling.Stop.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
            if (cut >= 0)
                text = text[..cut];
            if (decoders[r] is { } decoder && text.Length > decoder.Emitted.Length && text.StartsWith(decoder.Emitted, StringComparison.Ordinal))
                watchers![r].OnText!(text[decoder.Emitted.Length..]); // what the decoder held back, settled by the final text
            string finish = g.Stopped[r] ? Completion.Cancelled : g.Ended[r] || cut >= 0 ? "stop" : "length";
            results[r] = new Completion(text, finish, prompts[r].Length, length);
        }
        return results;
    }

    // Passes a streamed row's new text on; the token that ends its turn is not text.
    private void Stream(SampledToken token, IncrementalDecoder? decoder, RowWatcher watcher)
    {
        if (decoder is null || (token.EndsRow && _stopIds.Contains(token.Token)))
            return;
        if (decoder.Push(token.Token) is { Length: > 0 } piece)
            watcher.OnText!(piece);
    }
}
