using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// The config keys from which every trainer resolves its inputs the same way (see
/// <see cref="TrainerInputs.Resolve"/>): the data folder, the starting model, the tokenizer and the
/// chat template.
/// </summary>
public interface ITrainerSources
{
    /// <summary>A data folder laid out as <c>rlhf data builtin</c> writes it (config key <c>data</c>).</summary>
    string? Data { get; }

    /// <summary>The model folder to start from (config key <c>model</c>).</summary>
    string? Model { get; }

    /// <summary>The tokenizer folder (config key <c>tokenizer</c>); default the model folder, else the data folder's.</summary>
    string? Tokenizer { get; }

    /// <summary>The chat template's name (config key <c>chat_template</c>).</summary>
    string ChatTemplate { get; }

    /// <summary>How added tokens written in the data's messages are encoded (config key <c>special_tokens_in_content</c>).</summary>
    SpecialTokensInContent SpecialTokensInContent { get; }
}
