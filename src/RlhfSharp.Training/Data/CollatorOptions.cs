using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Lengths, truncation and padding shared by the collators.
/// </summary>
/// <remarks>
/// Truncation: the prompt keeps its last <c>min(MaxPromptLength, MaxLength − 1)</c> tokens (cut
/// from the left, so the turn the model answers survives); the response then keeps its first
/// <c>MaxLength − prompt</c> tokens (cut from the right). A null limit does not truncate. With
/// <see cref="Truncation"/> off, an example over a limit is a <see cref="DataFormatException"/>.
/// </remarks>
public record CollatorOptions
{
    /// <summary>Most tokens in a prompt + response sequence; null for no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Most prompt tokens; null for no separate prompt limit.</summary>
    public int? MaxPromptLength { get; init; }

    /// <summary>Truncate over-long examples (true, counted in <see cref="TruncationStats"/>) or reject them (false).</summary>
    public bool Truncation { get; init; } = true;

    /// <summary>The id padding positions hold; null picks the tokenizer's pad, else its EOS, else 0. Padding is masked out either way.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>
    /// Also append the tokenizer's EOS token after the final assistant turn (trained on, part of
    /// the response), for models whose generation stops at EOS rather than at the template's
    /// end-of-turn marker. Off by default: the template's end-of-turn marker (chatml
    /// <c>&lt;|im_end|&gt;</c>, llama3 <c>&lt;|eot_id|&gt;</c>, plain <c>"\n"</c>) already ends every
    /// assistant turn and is trained on.
    /// </summary>
    public bool AppendEosToken { get; init; }

    /// <summary>
    /// How added tokens written in the messages (<c>&lt;|im_end|&gt;</c> in a user turn) are
    /// encoded: as plain text (the default: only the chat template writes control tokens) or, for
    /// trusted data, as the control tokens they spell.
    /// </summary>
    public SpecialTokensInContent SpecialTokensInContent { get; init; } = SpecialTokensInContent.Text;

    internal void Validate()
    {
        if (MaxLength is < 2)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "MaxLength must be at least 2 (one prompt and one response token).");
        if (MaxPromptLength is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxPromptLength), MaxPromptLength, "MaxPromptLength must be at least 1.");
        if (MaxLength is int max && MaxPromptLength is int prompt && prompt >= max)
            throw new ArgumentOutOfRangeException(nameof(MaxPromptLength), prompt, $"MaxPromptLength must be less than MaxLength ({max}) to leave room for the response.");
    }
}
