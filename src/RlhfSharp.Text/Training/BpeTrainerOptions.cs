using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text;

/// <summary>Settings for <see cref="BpeTrainer"/> (names as in tokenizers' <c>BpeTrainer</c>).</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>
    /// Final vocabulary size, counting the special tokens and the 256 byte tokens. Training stops
    /// earlier when no pair occurs <see cref="MinFrequency"/> times.
    /// </summary>
    public int VocabSize { get; init; } = 1000;

    /// <summary>A pair must occur at least this often in the corpus to be merged.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Special tokens, given ids 0, 1, 2… in this order; never split and never merged into.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [];

    /// <summary>The BOS token (added to <see cref="SpecialTokens"/> if missing), or null.</summary>
    public string? BosToken { get; init; }

    /// <summary>The EOS token (added to <see cref="SpecialTokens"/> if missing), or null.</summary>
    public string? EosToken { get; init; }

    /// <summary>The padding token (added to <see cref="SpecialTokens"/> if missing), or null.</summary>
    public string? PadToken { get; init; }

    /// <summary>
    /// How text is cut into pieces before merging (merges never cross a piece boundary); null: the
    /// GPT-2 byte-level pre-tokenizer. The trained tokenizer keeps it, and tokenizer.json records it.
    /// </summary>
    public PreTokenizer? PreTokenizer { get; init; }

    /// <summary>Capacity of the trained tokenizer's merge cache (pieces).</summary>
    public int CacheCapacity { get; init; } = 10_000;
}
