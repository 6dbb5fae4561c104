using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Turns prompts into a LEFT-padded <see cref="PromptBatch"/> for generation: each prompt is
/// rendered with the template's generation prompt appended, truncated from the left to
/// <see cref="CollatorOptions.MaxPromptLength"/> (MaxLength is not used here: the generation
/// length is the sampler's business).
/// </summary>
public sealed class PromptCollator
{
    private readonly DialogueEncoder _encoder;

    public PromptCollator(BpeTokenizer tokenizer, ChatTemplate template, CollatorOptions? options = null)
        => _encoder = new DialogueEncoder(tokenizer, template, options ?? new CollatorOptions());

    /// <summary>What has been truncated so far.</summary>
    public TruncationStats Stats { get; } = new();

    /// <summary>The id padding positions hold.</summary>
    public int PadTokenId => _encoder.PadId;

    /// <summary>prompts -> ids and attention mask [B, P], left-padded, with P the longest prompt.</summary>
    public PromptBatch Collate(IReadOnlyList<PromptExample> examples)
    {
        Padding.RequireRows(examples, nameof(examples));
        var rows = examples.Select(Tokenize).ToArray();
        var (ids, attention) = Padding.Pad(rows, rows.Max(r => r.Length), _encoder.PadId, left: true);
        return new PromptBatch(ids, attention, Tensor.FromArray(rows.Select(r => r.Length).ToArray(), rows.Length), examples);
    }

    /// <summary>One prompt's ids, generation prompt included, truncated from the left.</summary>
    public int[] Tokenize(PromptExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var ids = _encoder.EncodePrompt(example.Messages);
        int max = _encoder.Options.MaxPromptLength ?? int.MaxValue;
        if (ids.Length > max && !_encoder.Options.Truncation)
            throw new DataFormatException(DataErrorKind.TooLong, example.Source, example.Line, "prompt",
                $"the prompt is {ids.Length} tokens with the generation prompt, over MaxPromptLength {max}; raise MaxPromptLength, shorten the prompt, or turn truncation on.");
        Stats.Add(ids.Length > max, false);
        return ids.Length > max ? ids[^max..] : ids;
    }
}
