using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Turns unpaired examples into right-padded <see cref="SequenceBatch"/>es for KTO: each row is a
/// prompt (truncated from the left) followed by a completion (cut from the right), with the
/// response mask on the completion. <see cref="CollateMismatched"/> builds the KL rows TRL's
/// KTOTrainer uses for the reference point: each prompt with another example's completion.
/// </summary>
public sealed class UnpairedCollator
{
    private readonly DialogueEncoder _encoder;

    public UnpairedCollator(BpeTokenizer tokenizer, ChatTemplate template, CollatorOptions? options = null)
        => _encoder = new DialogueEncoder(tokenizer, template, options ?? new CollatorOptions());

    /// <summary>What has been truncated so far in <see cref="Collate"/> (the KL rows are not counted).</summary>
    public TruncationStats Stats { get; } = new();

    /// <summary>One example's token count after truncation (its row's width in a batch); counts nothing in <see cref="Stats"/>.</summary>
    public int Length(UnpairedExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var encoded = _encoder.EncodeWithResponse(example.Dialogue);
        return _encoder.KeptLength(encoded.PromptIds.Length, encoded.ResponseIds.Length);
    }

    /// <summary>examples -> prompt + completion rows [B, T].</summary>
    public SequenceBatch Collate(IReadOnlyList<UnpairedExample> examples)
    {
        Padding.RequireRows(examples, nameof(examples));
        return Build([.. examples.Select(e => (e.Dialogue, e))], count: true);
    }

    /// <summary>
    /// examples -> rows [B, T] where row i is prompt i followed by the completion of example i − 1
    /// (row 0 takes the last one): TRL's KL dataset, the completions shifted by one within the batch.
    /// A batch of one pairs its prompt with its own completion.
    /// </summary>
    public SequenceBatch CollateMismatched(IReadOnlyList<UnpairedExample> examples)
    {
        Padding.RequireRows(examples, nameof(examples));
        int n = examples.Count;
        return Build([.. examples.Select((e, i) => ((IReadOnlyList<ChatMessage>)[.. e.Prompt, examples[(i + n - 1) % n].Completion], e))], count: false);
    }

    private SequenceBatch Build(IReadOnlyList<(IReadOnlyList<ChatMessage> Dialogue, UnpairedExample Origin)> rows, bool count)
    {
        int n = rows.Count;
        var sequences = new int[n][];
        var promptLengths = new int[n];
        for (int b = 0; b < n; b++)
        {
            var (dialogue, origin) = rows[b];
            var encoded = _encoder.EncodeWithResponse(dialogue);
            int promptLength = encoded.PromptIds.Length;
            if (!_encoder.Options.Truncation && _encoder.TooLong(origin.Source, origin.Line, promptLength, "completion", encoded.ResponseIds.Length) is { } error)
                throw error;
            int promptKeep = _encoder.PromptKeep(promptLength);
            int responseKeep = _encoder.ResponseKeep(encoded.ResponseIds.Length, promptKeep);
            if (count)
                Stats.Add(promptKeep < promptLength, responseKeep < encoded.ResponseIds.Length);
            promptLengths[b] = promptKeep;
            sequences[b] = [.. encoded.PromptIds.AsSpan(promptLength - promptKeep), .. encoded.ResponseIds.AsSpan(0, responseKeep)];
        }
        int width = sequences.Max(r => r.Length);
        var (ids, attention) = Padding.Pad(sequences, width, _encoder.PadId, left: false);
        var response = new float[n * width];
        for (int b = 0; b < n; b++)
            response.AsSpan((b * width) + promptLengths[b], sequences[b].Length - promptLengths[b]).Fill(1f);
        return new SequenceBatch(ids, attention, Tensor.FromArray(response, n, width),
            Tensor.FromArray(promptLengths, n), Tensor.FromArray(sequences.Select(r => r.Length).ToArray(), n));
    }
}
