using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Turns preference pairs into a <see cref="PreferenceBatch"/> for reward modelling and DPO:
/// the prompt is tokenized once and shared by both sides (truncated from the left), each response
/// is cut from the right to fit <see cref="CollatorOptions.MaxLength"/>, and both sides are
/// right-padded to the same length.
/// </summary>
public sealed class PreferenceCollator
{
    private readonly DialogueEncoder _encoder;

    public PreferenceCollator(BpeTokenizer tokenizer, ChatTemplate template, CollatorOptions? options = null)
        => _encoder = new DialogueEncoder(tokenizer, template, options ?? new CollatorOptions());

    /// <summary>What has been truncated so far (a pair counts once).</summary>
    public TruncationStats Stats { get; } = new();

    /// <summary>The id padding positions hold.</summary>
    public int PadTokenId => _encoder.PadId;

    /// <summary>pairs -> chosen and rejected <see cref="SequenceBatch"/>es, each [B, T] with one T for both.</summary>
    public PreferenceBatch Collate(IReadOnlyList<PreferenceExample> examples)
    {
        Padding.RequireRows(examples, nameof(examples));
        int n = examples.Count;
        var chosen = new int[n][];
        var rejected = new int[n][];
        var promptLengths = new int[n];
        for (int b = 0; b < n; b++)
            (promptLengths[b], chosen[b], rejected[b]) = Tokenize(examples[b]);
        int width = Math.Max(chosen.Max(r => r.Length), rejected.Max(r => r.Length));
        return new PreferenceBatch(Side(chosen, promptLengths, width), Side(rejected, promptLengths, width), examples);
    }

    /// <summary>The token count of a pair's longer row after truncation (what its batch is padded to); counts nothing in <see cref="Stats"/>.</summary>
    public int LongerLength(PreferenceExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var chosen = _encoder.EncodeWithResponse(example.ChosenDialogue);
        var rejected = _encoder.EncodeWithResponse(example.RejectedDialogue);
        return _encoder.KeptLength(chosen.PromptIds.Length, Math.Max(chosen.ResponseIds.Length, rejected.ResponseIds.Length));
    }

    /// <summary>One pair: the kept prompt length and the chosen and rejected sequences (prompt + response, truncated).</summary>
    public (int PromptLength, int[] Chosen, int[] Rejected) Tokenize(PreferenceExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var chosen = _encoder.EncodeWithResponse(example.ChosenDialogue);
        var rejected = _encoder.EncodeWithResponse(example.RejectedDialogue);
        if (!chosen.PromptIds.AsSpan().SequenceEqual(rejected.PromptIds))
            throw new InvalidOperationException($"{example.Source}: line {example.Line}: the template tokenized the shared prompt differently for chosen and rejected.");
        int promptLength = chosen.PromptIds.Length;
        if (!_encoder.Options.Truncation)
        {
            var error = _encoder.TooLong(example.Source, example.Line, promptLength, "chosen", chosen.ResponseIds.Length)
                ?? _encoder.TooLong(example.Source, example.Line, promptLength, "rejected", rejected.ResponseIds.Length);
            if (error is not null) throw error;
        }
        int promptKeep = _encoder.PromptKeep(promptLength);
        int chosenKeep = _encoder.ResponseKeep(chosen.ResponseIds.Length, promptKeep);
        int rejectedKeep = _encoder.ResponseKeep(rejected.ResponseIds.Length, promptKeep);
        Stats.Add(promptKeep < promptLength, chosenKeep < chosen.ResponseIds.Length || rejectedKeep < rejected.ResponseIds.Length);
        var prompt = chosen.PromptIds.AsSpan(promptLength - promptKeep);
        return (promptKeep, [.. prompt, .. chosen.ResponseIds.AsSpan(0, chosenKeep)], [.. prompt, .. rejected.ResponseIds.AsSpan(0, rejectedKeep)]);
    }

    private SequenceBatch Side(int[][] rows, int[] promptLengths, int width)
    {
        var (ids, attention) = Padding.Pad(rows, width, _encoder.PadId, left: false);
        var response = new float[rows.Length * width];
        for (int b = 0; b < rows.Length; b++)
            response.AsSpan((b * width) + promptLengths[b], rows[b].Length - promptLengths[b]).Fill(1f);
        return new SequenceBatch(ids, attention, Tensor.FromArray(response, rows.Length, width),
            Tensor.FromArray(promptLengths, rows.Length), Tensor.FromArray(rows.Select(r => r.Length).ToArray(), rows.Length));
    }
}
