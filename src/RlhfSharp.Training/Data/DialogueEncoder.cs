using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>A conversation split into the tokens before its final assistant turn and the tokens of that turn.</summary>
/// <param name="PromptIds">Everything before the final assistant turn's content, its header included.</param>
/// <param name="PromptAssistantMask">True on prompt tokens that belong to earlier assistant turns.</param>
/// <param name="ResponseIds">The final assistant turn's content and end-of-turn marker (and EOS when appended).</param>
internal sealed record EncodedDialogue(int[] PromptIds, bool[] PromptAssistantMask, int[] ResponseIds);

/// <summary>
/// Tokenizes conversations with a chat template for the collators, and applies the truncation
/// rule of <see cref="CollatorOptions"/>. Markup the template writes after the final assistant
/// turn (chatml's newline after <c>&lt;|im_end|&gt;</c>) is dropped, so a sequence ends where
/// generation stops: at the end-of-turn marker (or the appended EOS).
/// </summary>
internal sealed class DialogueEncoder
{
    private readonly BpeTokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly CollatorOptions _options;
    private readonly int? _eos;

    public DialogueEncoder(BpeTokenizer tokenizer, ChatTemplate template, CollatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _tokenizer = tokenizer;
        _template = template;
        _options = options;
        if (options.AppendEosToken)
            _eos = tokenizer.EosTokenId ?? throw new ArgumentException("AppendEosToken is set but the tokenizer has no EOS token; set one or turn AppendEosToken off.", nameof(options));
        PadId = options.PadTokenId ?? tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0;
    }

    public int PadId { get; }

    public CollatorOptions Options => _options;

    /// <summary>Splits at the final assistant turn, which the messages must end with.</summary>
    public EncodedDialogue EncodeWithResponse(IReadOnlyList<ChatMessage> messages)
    {
        var rendered = _template.Render(messages);
        if (rendered.AssistantSpans.Count == 0) throw new ArgumentException("The conversation has no assistant turn to train on.", nameof(messages));
        return EncodeRendered(rendered);
    }

    /// <summary>Splits a rendered conversation at its final assistant span, which it must have.</summary>
    public EncodedDialogue EncodeRendered(RenderedChat rendered)
    {
        ArgumentNullException.ThrowIfNull(rendered);
        if (rendered.AssistantSpans.Count == 0) throw new ArgumentException("The conversation has no assistant turn to train on.", nameof(rendered));
        var last = rendered.AssistantSpans[^1];
        var prompt = rendered.Encode(_tokenizer, new TextSpan(0, last.Start), _options.SpecialTokensInContent);
        var response = new List<int>(rendered.Encode(_tokenizer, last, _options.SpecialTokensInContent).Ids);
        if (_eos is int eos && (response.Count == 0 || response[^1] != eos)) response.Add(eos);
        return new EncodedDialogue(prompt.Ids, prompt.AssistantMask, [.. response]);
    }

    /// <summary>The prompt followed by the template's generation prompt (the assistant header).</summary>
    public int[] EncodePrompt(IReadOnlyList<ChatMessage> messages)
        => _template.Encode(_tokenizer, messages, addGenerationPrompt: true, _options.SpecialTokensInContent).Ids;

    /// <summary>How many prompt tokens survive: at most MaxPromptLength and MaxLength − 1.</summary>
    public int PromptKeep(int promptLength)
    {
        int cap = Math.Min(_options.MaxPromptLength ?? int.MaxValue, _options.MaxLength is int max ? max - 1 : int.MaxValue);
        return Math.Min(promptLength, cap);
    }

    /// <summary>How many response tokens survive after <paramref name="promptKept"/> prompt tokens.</summary>
    public int ResponseKeep(int responseLength, int promptKept)
        => _options.MaxLength is int max ? Math.Min(responseLength, max - promptKept) : responseLength;

    /// <summary>Tokens of a row after truncation: the kept prompt, then the kept response.</summary>
    public int KeptLength(int promptLength, int responseLength)
    {
        int promptKept = PromptKeep(promptLength);
        return promptKept + ResponseKeep(responseLength, promptKept);
    }

    /// <summary>With truncation off, the error for an example over a limit; null when it fits.</summary>
    public DataFormatException? TooLong(string source, int line, int promptLength, string responseField, int responseLength)
    {
        if (_options.MaxPromptLength is int maxPrompt && promptLength > maxPrompt)
            return new DataFormatException(DataErrorKind.TooLong, source, line, "prompt",
                $"the prompt is {promptLength} tokens, over MaxPromptLength {maxPrompt}; raise MaxPromptLength, shorten the prompt, or turn truncation on.");
        if (_options.MaxLength is int max && promptLength + responseLength > max)
            return new DataFormatException(DataErrorKind.TooLong, source, line, responseField,
                $"prompt + {responseField} is {promptLength + responseLength} tokens (prompt {promptLength}, {responseField} {responseLength}), over MaxLength {max}; raise MaxLength, shorten the example, or turn truncation on.");
        return null;
    }
}
