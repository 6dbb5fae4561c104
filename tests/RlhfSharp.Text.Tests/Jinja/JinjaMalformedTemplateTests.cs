using System.Text.Json.Nodes;
using RlhfSharp.Text.Jinja;

namespace RlhfSharp.Text.Tests.Jinja;

/// <summary>
/// Malformed and hostile templates end in a <see cref="JinjaTemplateException"/> naming the line,
/// never in another exception, a stack overflow or a hang.
/// </summary>
public class JinjaMalformedTemplateTests
{
    private static readonly Dictionary<string, JsonNode?> Context = new()
    {
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        ["add_generation_prompt"] = true,
    };

    [Theory]
    [InlineData("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion")]
    [InlineData("{{ range(1000000) | length }}", "range too big")]
    [InlineData("{{ 'ab' * 100000000 }}", "too long")]
    [InlineData("{{ 9 ** 99 }}", "too large")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{% set x.y = 1 %}", "non-namespace")]
    [InlineData("{{ [1][1:2:0] }}", "step cannot be zero")]
    [InlineData("{{ {[1]: 2} }}", "unhashable")]
    [InlineData("{{ 'a' | tojson(indent=[]) }}", "indent")]
    [InlineData("{{ 'x' | indent(2, true, true, 4) }}", "at most 3 arguments")]
    [InlineData("{{ 'a'.startswith(1) }}", "must be str")]
    [InlineData("{{ {}|items|first }}{{ 1|items }}", "mapping")]
    public void Runtime_failures_are_typed(string source, string problem)
    {
        var e = Assert.Throws<JinjaTemplateException>(() => JinjaTemplate.Parse(source, "t").Render(Context));
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void Raise_exception_names_the_template_and_the_line_it_ran_on()
    {
        var e = Assert.Throws<JinjaTemplateException>(() =>
            JinjaTemplate.Parse("a\n{% for m in messages %}\n{{ raise_exception('No ' ~ m.role ~ ' turns here') }}\n{% endfor %}", "config.json: chat_template").Render(Context));
        Assert.Equal(JinjaErrorKind.Raised, e.Kind);
        Assert.Equal(3, e.Line);
        Assert.Equal("config.json: chat_template: line 3: the template raised an error: No user turns here", e.Message);
    }

    [Fact]
    public void Exponentiation_by_a_huge_power_of_one_finishes() =>
        Assert.Equal("1", JinjaTemplate.Parse("{{ 1 ** 9223372036854775807 }}").Render(Context).Text);

    [Theory]
    [InlineData(1000, "(", ")", "nest more than")]
    [InlineData(1000, "{% if true %}", "{% endif %}", "nest more than")]
    public void Deep_nesting_is_refused(int depth, string open, string close, string problem)
    {
        string source = open == "(" ? "{{ " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)) + " }}"
            : string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth));
        var e = Assert.Throws<JinjaTemplateException>(() => JinjaTemplate.Parse(source, "t"));
        Assert.Equal(JinjaErrorKind.Syntax, e.Kind);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_fixture_templates_fail_only_with_template_errors()
    {
        var sources = JinjaFixtureTests.Templates().Distinct().ToList();
        var random = new Random(1234);
        const string alphabet = "{}%#-+()[]|.,:'\"~=<>!* \nabcdefgijklmnorstuxyz0123456789_";
        int failures = 0, total = 0;
        foreach (var source in sources)
        {
            for (int k = 0; k < 40; k++)
            {
                var chars = new List<char>(source);
                for (int edits = random.Next(1, 6); edits > 0; edits--)
                {
                    int at = random.Next(chars.Count + 1);
                    if (random.Next(2) == 0 && at < chars.Count) chars.RemoveAt(at);
                    else chars.Insert(at, alphabet[random.Next(alphabet.Length)]);
                }
                string mutated = new(chars.ToArray());
                total++;
                try
                {
                    JinjaTemplate.Parse(mutated, "m").Render(Context);
                }
                catch (JinjaTemplateException e)
                {
                    failures++;
                    Assert.True(e.Line >= 1, $"line {e.Line} in: {mutated}");
                }
            }
        }
        Assert.InRange(failures, 1, total - 1);
    }
}
