using RlhfSharp.Text.Chat;

namespace RlhfSharp.Training.Data;

/// <summary>
/// What a chat template writes around a final assistant turn, learnt once by rendering a probe
/// conversation: the markup between the generation prompt and the assistant span, the markup that
/// opens the span before the content, and the markup that closes it (chatml: "", "",
/// "&lt;|im_end|&gt;"). With it a prompt already rendered as text (the generation prompt included)
/// and a response become the <see cref="RenderedChat"/> the template would have made of the whole
/// conversation: the rendered prompt is markup (its added tokens are control tokens, as the
/// template wrote them) and the response is the conversation's own text (its added tokens stay
/// plain text).
/// </summary>
public sealed class ResponseFrame
{
    private const string Probe = "\u0001response\u0001";

    private ResponseFrame(string bridge, string open, string close)
    {
        Bridge = bridge;
        Open = open;
        Close = close;
    }

    /// <summary>Markup after the generation prompt and before the assistant span (usually empty).</summary>
    public string Bridge { get; }

    /// <summary>Markup that opens the assistant span before its content (usually empty).</summary>
    public string Open { get; }

    /// <summary>Markup that closes the assistant span after its content (the end-of-turn marker).</summary>
    public string Close { get; }

    /// <summary>The frame of <paramref name="template"/>.</summary>
    public static ResponseFrame Of(ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        IReadOnlyList<ChatMessage> prompt = [ChatMessage.User("question")];
        var full = template.Render([.. prompt, ChatMessage.Assistant(Probe)]);
        if (full.AssistantSpans.Count == 0)
            return new ResponseFrame("", "", template.EndOfTurn);
        var span = full.AssistantSpans[^1];
        int at = full.Text.IndexOf(Probe, span.Start, StringComparison.Ordinal);
        if (at < 0 || at + Probe.Length > span.End)
            return new ResponseFrame("", "", template.EndOfTurn);
        string generation = template.Render(prompt, addGenerationPrompt: true).Text;
        string bridge = generation.Length <= span.Start && full.Text.StartsWith(generation, StringComparison.Ordinal)
            ? full.Text[generation.Length..span.Start]
            : "";
        return new ResponseFrame(bridge, full.Text[span.Start..at], full.Text[(at + Probe.Length)..span.End]);
    }

    /// <summary>The conversation <paramref name="renderedPrompt"/> (generation prompt included) answered by <paramref name="response"/>.</summary>
    public RenderedChat Render(string renderedPrompt, string response)
    {
        ArgumentNullException.ThrowIfNull(renderedPrompt);
        ArgumentNullException.ThrowIfNull(response);
        int spanStart = renderedPrompt.Length + Bridge.Length;
        int contentStart = spanStart + Open.Length;
        string text = renderedPrompt + Bridge + Open + response + Close;
        return new RenderedChat(text, [new TextSpan(spanStart, text.Length - spanStart)],
            response.Length == 0 ? [] : [new TextSpan(contentStart, response.Length)]);
    }
}
