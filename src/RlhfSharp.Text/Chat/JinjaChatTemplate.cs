using System.Text.Json.Nodes;
using RlhfSharp.Text.Jinja;

namespace RlhfSharp.Text.Chat;

/// <summary>
/// A model's own chat template (the Jinja text of <c>tokenizer_config.json</c>'s <c>chat_template</c>
/// or of <c>chat_template.jinja</c>), rendered as Hugging Face's <c>apply_chat_template</c> does,
/// with the spans a trainer needs.
/// </summary>
/// <remarks>
/// The context is HF's: <c>messages</c> (JSON objects, with <c>tool_calls</c>,
/// <c>reasoning_content</c>, <c>name</c>... as the data has them), <c>tools</c> (null when none),
/// <c>add_generation_prompt</c>, the tokenizer's special tokens (<c>bos_token</c>,
/// <c>eos_token</c>...) and any extra variables (<c>enable_thinking</c>...), which override them.
/// Assistant spans come from <c>{% generation %}</c> blocks when the template has them; otherwise
/// message i's span starts where rendering messages[..i] with the generation prompt ends, and
/// ends where rendering messages[..i+1] ends, less trailing whitespace (ChatML's "\n" after
/// <c>&lt;|im_end|&gt;</c>). Where a template renders a turn differently once later turns follow
/// (Qwen3 drops the reasoning of earlier turns), the turn starts after the first generation prompt
/// (or its first lines) the template wrote after the previous turn, and ends after the first
/// end-of-turn marker (<see cref="EndOfTurn"/>) of the template's own markup. Content spans are where strings from
/// <c>messages</c> and <c>tools</c> landed in the text, through any string operation.
/// </remarks>
public sealed class JinjaChatTemplate : ChatTemplate
{
    private static readonly HashSet<string> ContentVariables = ["messages", "tools", "documents"];

    /// <param name="template">The parsed template.</param>
    /// <param name="specialTokens">Variables from the tokenizer (<c>bos_token</c>, <c>eos_token</c>, <c>additional_special_tokens</c>...).</param>
    public JinjaChatTemplate(JinjaTemplate template, IReadOnlyDictionary<string, JsonNode?>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        Template = template;
        SpecialTokens = specialTokens ?? new Dictionary<string, JsonNode?>();
        EndOfTurn = SpecialTokens.TryGetValue("eos_token", out var eos) && eos is JsonValue v && v.TryGetValue(out string? s) ? s : "";
    }

    /// <summary>The model's template from a tokenizer folder, or null when the folder has none; see <see cref="ChatTemplateFiles"/>.</summary>
    /// <param name="directory">The folder with tokenizer_config.json and/or chat_template.jinja.</param>
    /// <param name="name">A named template ("tool_use"...); null for the default.</param>
    public static JinjaChatTemplate? FromTokenizerDirectory(string directory, string? name = null) => ChatTemplateFiles.Load(directory, name);

    public JinjaTemplate Template { get; }

    public IReadOnlyDictionary<string, JsonNode?> SpecialTokens { get; }

    public override string Name => "jinja";

    /// <summary>The tokenizer's <c>eos_token</c> ("" when it has none).</summary>
    public override string EndOfTurn { get; }

    /// <summary>Renders a conversation given as JSON messages; see the class remarks for the spans.</summary>
    /// <param name="messages">JSON objects with at least "role"; "content" may be a string, null or absent as the template allows.</param>
    /// <param name="tools">Tool schemas, or null.</param>
    /// <param name="addGenerationPrompt">End with the header that asks for an assistant turn.</param>
    /// <param name="extra">More template variables (<c>enable_thinking</c>...); they override the special tokens.</param>
    public RenderedChat Render(IReadOnlyList<JsonNode> messages, JsonArray? tools = null, bool addGenerationPrompt = false,
        IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
            if (messages[i] is not JsonObject)
                throw new ArgumentException($"messages[{i}] must be a JSON object with a \"role\".", nameof(messages));
        var full = RenderPrefix(messages, messages.Count, tools, addGenerationPrompt, extra);
        var assistant = Template.HasGenerationBlocks
            ? MergeSpans([.. full.GenerationSpans.Select(Span)])
            : PrefixSpans(messages, tools, extra, full);
        return new RenderedChat(full.Text, assistant, [.. full.ContentSpans.Select(Span)]);
    }

    private JinjaOutput RenderPrefix(IReadOnlyList<JsonNode> messages, int count, JsonArray? tools, bool addGenerationPrompt,
        IReadOnlyDictionary<string, JsonNode?>? extra)
    {
        var context = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (k, v) in SpecialTokens) context[k] = v?.DeepClone();
        context["tools"] = tools?.DeepClone();
        context["documents"] = null;
        if (extra is not null) foreach (var (k, v) in extra) context[k] = v?.DeepClone();
        context["messages"] = new JsonArray([.. messages.Take(count).Select(m => m.DeepClone())]);
        context["add_generation_prompt"] = addGenerationPrompt;
        return Template.Render(context, ContentVariables);
    }

    private List<TextSpan> PrefixSpans(IReadOnlyList<JsonNode> messages, JsonArray? tools, IReadOnlyDictionary<string, JsonNode?>? extra, JinjaOutput full)
    {
        var spans = new List<TextSpan>();
        string text = full.Text;
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i]["role"] is not JsonValue r || !r.TryGetValue(out string? role) || role != "assistant") continue;
            string before = RenderPrefix(messages, i, tools, addGenerationPrompt: true, extra).Text;
            int searchFrom = spans.Count > 0 ? spans[^1].End : 0;
            if (!text.StartsWith(before, StringComparison.Ordinal))
            {
                // An earlier turn renders differently here (Qwen3 keeps the reasoning of turns after
                // the last user message): find this turn by its header instead.
                int headerEnd = AfterGenerationHeader(messages, i, tools, extra, full, searchFrom);
                spans.Add(new TextSpan(headerEnd, EndOfTurnAfter(headerEnd, full, i) - headerEnd));
                continue;
            }
            int start = before.Length;
            string through = RenderPrefix(messages, i + 1, tools, addGenerationPrompt: false, extra).Text;
            int end = text.StartsWith(through, StringComparison.Ordinal) && through.Length >= start
                ? through.TrimEnd().Length
                : EndOfTurnAfter(start, full, i);
            if (end < start) end = start;
            if (spans.Count > 0 && start < spans[^1].End) start = spans[^1].End;
            if (end > start) spans.Add(new TextSpan(start, end - start));
        }
        return spans;
    }

    // The end of the first generation prompt (what add_generation_prompt adds after messages[..i]) that the template wrote at or after searchFrom.
    private int AfterGenerationHeader(IReadOnlyList<JsonNode> messages, int i, JsonArray? tools, IReadOnlyDictionary<string, JsonNode?>? extra,
        JinjaOutput full, int searchFrom)
    {
        string with = RenderPrefix(messages, i, tools, addGenerationPrompt: true, extra).Text;
        string without = RenderPrefix(messages, i, tools, addGenerationPrompt: false, extra).Text;
        if (with.Length > without.Length && with.StartsWith(without, StringComparison.Ordinal))
        {
            string prompt = with[without.Length..];
            // The whole prompt, else its first lines (Qwen3 with enable_thinking=false adds an empty
            // think block to the prompt that earlier turns do not have).
            var candidates = new List<string> { prompt };
            for (int nl = prompt.LastIndexOf('\n', prompt.Length - 2 < 0 ? 0 : prompt.Length - 2); nl >= 0;
                 nl = nl == 0 ? -1 : prompt.LastIndexOf('\n', nl - 1))
                candidates.Add(prompt[..(nl + 1)]);
            // The earliest match wins (this turn comes before later ones), the longest at that place.
            (int At, int End)? best = null;
            foreach (var header in candidates)
            {
                for (int at = full.Text.IndexOf(header, searchFrom, StringComparison.Ordinal); at >= 0;
                     at = full.Text.IndexOf(header, at + 1, StringComparison.Ordinal))
                {
                    // Its first character must be the template's (a role name from the data may follow).
                    if (full.ContentSpans.Any(c => c.Start <= at && at < c.End)) continue;
                    if (best is null || at < best.Value.At) best = (at, at + header.Length);
                    break;
                }
            }
            if (best is { } found) return found.End;
        }
        throw new JinjaTemplateException(Template.Name, 1, JinjaErrorKind.Turns,
            $"cannot find where assistant message {i} starts: the conversation before it renders differently once later messages follow, and its generation prompt does not appear in the whole conversation; mark assistant text with {{% generation %}}...{{% endgeneration %}} in the template");
    }

    // The end of the first end-of-turn marker at or after start that the template wrote (not inside the conversation's text).
    private int EndOfTurnAfter(int start, JinjaOutput full, int message)
    {
        if (EndOfTurn.Length > 0)
        {
            for (int at = full.Text.IndexOf(EndOfTurn, start, StringComparison.Ordinal); at >= 0;
                 at = full.Text.IndexOf(EndOfTurn, at + 1, StringComparison.Ordinal))
            {
                if (!full.ContentSpans.Any(c => c.Start < at + EndOfTurn.Length && at < c.End)) return at + EndOfTurn.Length;
            }
        }
        throw new JinjaTemplateException(Template.Name, 1, JinjaErrorKind.Turns,
            $"cannot find where assistant message {message} ends: the template renders it differently once later messages follow, and no end-of-turn marker (eos_token) follows it; mark assistant text with {{% generation %}}...{{% endgeneration %}} in the template");
    }

    private static TextSpan Span((int Start, int End) r) => new(r.Start, r.End - r.Start);

    private static List<TextSpan> MergeSpans(IReadOnlyList<TextSpan> spans)
    {
        var result = new List<TextSpan>();
        foreach (var s in spans.Where(s => s.Length > 0).OrderBy(s => s.Start))
        {
            if (result.Count > 0 && s.Start <= result[^1].End)
                result[^1] = new TextSpan(result[^1].Start, Math.Max(result[^1].End, s.End) - result[^1].Start);
            else result.Add(s);
        }
        return result;
    }

    /// <summary>The <see cref="ChatMessage"/> form: each message becomes {"role", "content"}; the rendered spans become pieces.</summary>
    protected override void AppendPieces(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, List<ChatPiece> pieces)
    {
        var json = messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToList();
        var rendered = Render(json, null, addGenerationPrompt);
        var cuts = new SortedSet<int> { 0, rendered.Text.Length };
        foreach (var s in rendered.AssistantSpans.Concat(rendered.ContentSpans))
        {
            cuts.Add(s.Start);
            cuts.Add(s.End);
        }
        int from = -1;
        foreach (int to in cuts)
        {
            if (from >= 0 && to > from)
            {
                bool assistant = rendered.AssistantSpans.Any(s => s.Start <= from && to <= s.End);
                bool content = rendered.ContentSpans.Any(s => s.Start <= from && to <= s.End);
                pieces.Add(new ChatPiece(rendered.Text[from..to], assistant, content));
            }
            from = to;
        }
    }
}
