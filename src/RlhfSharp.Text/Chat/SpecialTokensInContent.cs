namespace RlhfSharp.Text.Chat;

/// <summary>
/// How a chat encoding treats added tokens (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>,
/// <c>&lt;think&gt;</c>...) written inside the conversation's own text: message content and role names.
/// </summary>
public enum SpecialTokensInContent
{
    /// <summary>
    /// As plain text, split into ordinary BPE pieces: only the template's markup becomes control
    /// tokens, so a message cannot end its turn or write another role's. The default, and the
    /// only safe choice for text from users.
    /// </summary>
    Text,

    /// <summary>
    /// As control tokens, as if the rendered text were tokenized whole (Hugging Face's
    /// <c>apply_chat_template</c> then <c>encode</c>). For trusted data whose content is meant to hold
    /// markers, e.g. reasoning traces with <c>&lt;think&gt;</c>.
    /// </summary>
    Control,
}
