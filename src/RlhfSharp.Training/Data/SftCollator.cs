using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Turns SFT examples into right-padded <see cref="SftBatch"/>es: renders each conversation with
/// the chat template, tokenizes it, truncates (prompt from the left, completion from the right,
/// see <see cref="CollatorOptions"/>) and builds the loss mask (see <see cref="SftBatch"/> for the
/// convention).
/// </summary>
public sealed class SftCollator
{
    private readonly DialogueEncoder _encoder;
    private readonly SftCollatorOptions _options;

    public SftCollator(BpeTokenizer tokenizer, ChatTemplate template, SftCollatorOptions? options = null)
    {
        _options = options ?? new SftCollatorOptions();
        _encoder = new DialogueEncoder(tokenizer, template, _options);
    }

    /// <summary>What has been truncated so far.</summary>
    public TruncationStats Stats { get; } = new();

    /// <summary>The id padding positions hold.</summary>
    public int PadTokenId => _encoder.PadId;

    /// <summary>examples -> ids, attention mask, loss mask and labels, each [B, T] with T the longest row.</summary>
    public SftBatch Collate(IReadOnlyList<SftExample> examples)
    {
        Padding.RequireRows(examples, nameof(examples));
        var rows = new int[examples.Count][];
        var trained = new bool[examples.Count][];
        for (int b = 0; b < examples.Count; b++)
            (rows[b], trained[b]) = Tokenize(examples[b]);
        int width = rows.Max(r => r.Length);
        var (ids, attention) = Padding.Pad(rows, width, _encoder.PadId, left: false);
        var loss = Padding.Flags(trained, width);
        var idData = ids.ToIntArray();
        var labels = new int[idData.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = loss[i] > 0 ? idData[i] : SftBatch.IgnoreIndex;
        return new SftBatch(ids, attention, Tensor.FromArray(loss, examples.Count, width),
            Tensor.FromArray(labels, examples.Count, width), examples);
    }

    /// <summary>One example's token count after truncation (its row's width in a batch); counts nothing in <see cref="Stats"/>.</summary>
    public int Length(SftExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var encoded = _encoder.EncodeWithResponse(example.Messages);
        return _encoder.KeptLength(encoded.PromptIds.Length, encoded.ResponseIds.Length);
    }

    /// <summary>One example's token ids (truncated) and, per token, whether it is a trained target.</summary>
    public (int[] Ids, bool[] Trained) Tokenize(SftExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        return Tokenize(_encoder.EncodeWithResponse(example.Messages), example.Source, example.Line);
    }

    /// <summary>
    /// A conversation already rendered (see <see cref="ResponseFrame"/>) as one example's token ids
    /// (truncated as <see cref="Tokenize(SftExample)"/> truncates) and trained flags.
    /// </summary>
    public (int[] Ids, bool[] Trained) Tokenize(RenderedChat rendered, string source, int line)
        => Tokenize(_encoder.EncodeRendered(rendered), source, line);

    private (int[] Ids, bool[] Trained) Tokenize(EncodedDialogue encoded, string source, int line)
    {
        int promptLength = encoded.PromptIds.Length, responseLength = encoded.ResponseIds.Length;
        if (!_options.Truncation && _encoder.TooLong(source, line, promptLength, "completion", responseLength) is { } error)
            throw error;
        int promptKeep = _encoder.PromptKeep(promptLength);
        int responseKeep = _encoder.ResponseKeep(responseLength, promptKeep);
        Stats.Add(promptKeep < promptLength, responseKeep < responseLength);

        int promptStart = promptLength - promptKeep;
        var ids = new int[promptKeep + responseKeep];
        var trained = new bool[ids.Length];
        encoded.PromptIds.AsSpan(promptStart, promptKeep).CopyTo(ids);
        encoded.ResponseIds.AsSpan(0, responseKeep).CopyTo(ids.AsSpan(promptKeep));
        for (int t = 0; t < ids.Length; t++)
        {
            trained[t] = !_options.CompletionOnlyLoss
                || t >= promptKeep
                || (_options.TrainOnAllAssistantTurns && encoded.PromptAssistantMask[promptStart + t]);
        }
        if (trained.Length > 0) trained[0] = false; // nothing predicts the first token
        return (ids, trained);
    }
}
