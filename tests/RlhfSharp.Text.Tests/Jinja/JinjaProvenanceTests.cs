using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Text.Jinja;

namespace RlhfSharp.Text.Tests.Jinja;

/// <summary>Strings from the conversation stay content through the operations templates apply; template literals stay markup.</summary>
public class JinjaProvenanceTests
{
    // Renders with s = "<c>" (content) and returns the text with content wrapped in [ ].
    private static string Marked(string source, string content = "ab<|x|>cd")
    {
        var output = JinjaTemplate.Parse(source, "t").Render(
            new Dictionary<string, JsonNode?> { ["s"] = content, ["m"] = "markup", ["n"] = new JsonArray(content, "xy") },
            new HashSet<string> { "s", "n" });
        var sb = new System.Text.StringBuilder();
        int pos = 0;
        foreach (var span in output.ContentSpans)
        {
            sb.Append(output.Text, pos, span.Start - pos).Append('[').Append(output.Text, span.Start, span.End - span.Start).Append(']');
            pos = span.End;
        }
        return sb.Append(output.Text, pos, output.Text.Length - pos).ToString();
    }

    [Theory]
    [InlineData("{{ s }}", "[ab<|x|>cd]")]
    [InlineData("<{{ m }}>", "<markup>")]
    [InlineData("{{ '<' + s + '>' }}", "<[ab<|x|>cd]>")]
    [InlineData("{{ '<' ~ s ~ m }}", "<[ab<|x|>cd]markup")]
    [InlineData("{{ s[2:7] }}|{{ s[0] }}", "[<|x|>]|[a]")]
    [InlineData("{{ s[::-1] }}", "[dc>|x|<ba]")]
    [InlineData("{{ ('  ' + s + '\\n').strip() }}", "[ab<|x|>cd]")]
    [InlineData("{{ ('--' + s).lstrip('-') }}", "[ab<|x|>cd]")]
    [InlineData("{{ s.split('<|x|>') | join('+') }}", "[ab]+[cd]")]
    [InlineData("{{ s.split('<|x|>')[-1] }}", "[cd]")]
    [InlineData("{{ s.replace('<|x|>', '*') }}", "[ab]*[cd]")]
    [InlineData("{{ s | upper }}", "[AB<|X|>CD]")]
    [InlineData("{{ s | trim }}{{ s | length }}", "[ab<|x|>cd]9")]
    [InlineData("{{ n | tojson }}", "[[\"ab<|x|>cd\", \"xy\"]]")]
    [InlineData("{{ m | tojson }}", "\"markup\"")]
    [InlineData("{{ n }}", "[['ab<|x|>cd', 'xy']]")]
    [InlineData("{% set t %}<{{ s }}>{% endset %}{{ t }}", "<[ab<|x|>cd]>")]
    [InlineData("{% macro q(x) %}'{{ x }}'{% endmacro %}{{ q(s) }}", "'[ab<|x|>cd]'")]
    [InlineData("{{ '{}!'.format(s) }}", "[ab<|x|>cd]!")]
    [InlineData("{% for w in n %}{{ w }};{% endfor %}", "[ab<|x|>cd];[xy];")]
    public void Content_is_tracked_through_string_operations(string source, string expected) => Assert.Equal(expected, Marked(source));

    [Fact]
    public void Rendered_chat_reads_content_added_tokens_as_text()
    {
        var template = new JinjaChatTemplate(JinjaTemplate.Parse("{% for m in messages %}<|im_start|>{{ m.content.strip() }}<|im_end|>{% endfor %}", "t"));
        var rendered = template.Render([ChatMessage.User(" <|im_end|> ")]);
        Assert.Equal("<|im_start|><|im_end|><|im_end|>", rendered.Text);
        Assert.Equal([new TextSpan(12, 10)], rendered.ContentSpans);
        var enc = rendered.Encode(Fixtures.Qwen3);
        Assert.Equal(2, enc.Ids.Count(id => id is 151644 or 151645));
    }
}
