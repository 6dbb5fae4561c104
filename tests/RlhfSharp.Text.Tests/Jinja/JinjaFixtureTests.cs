using System.Text.Json.Nodes;
using RlhfSharp.Text.Jinja;

namespace RlhfSharp.Text.Tests.Jinja;

/// <summary>
/// Every case in Fixtures/jinja/cases.json, written by make_expected.py with jinja2 in Hugging
/// Face's environment: the output must match character for character (with the generation
/// blocks' spans), and a case jinja2 fails on must fail here too, with the same kind of error.
/// </summary>
public class JinjaFixtureTests
{
    internal static readonly DateTime FixedNow = new(2026, 3, 5, 14, 7, 9);

    private static readonly Lazy<Dictionary<string, JsonObject>> Cases = new(() =>
    {
        var all = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("jinja", "cases.json")))!.AsArray();
        return all.Select(c => c!.AsObject()).ToDictionary(c => (string)c["name"]!);
    });

    public static TheoryData<string> Names() => [.. Cases.Value.Keys];

    internal static JsonObject Case(string name) => Cases.Value[name];

    internal static IEnumerable<string> Templates() => Cases.Value.Values.Select(c => (string)c["template"]!);

    internal static JinjaOutput Render(JsonObject c)
    {
        var template = JinjaTemplate.Parse((string)c["template"]!, (string)c["name"]!).WithClock(() => FixedNow);
        var context = c["context"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
        return template.Render(context, new HashSet<string> { "messages", "tools" });
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RendersAsJinja2Does(string name)
    {
        var c = Case(name);
        var template = (string)c["template"]!;
        var context = c["context"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone());
        if (c["error"] is { } error)
        {
            var e = Assert.Throws<JinjaTemplateException>(() =>
                JinjaTemplate.Parse(template, name).WithClock(() => FixedNow).Render(context));
            Assert.Equal(name, e.TemplateName);
            Assert.StartsWith($"{name}: line {e.Line}: ", e.Message, StringComparison.Ordinal);
            string kind = (string)error!, message = (string)c["message"]!;
            switch (kind)
            {
                case "TemplateSyntaxError" or "TemplateAssertionError":
                    Assert.Equal(JinjaErrorKind.Syntax, e.Kind);
                    Assert.Equal((int)c["line"]!, e.Line);
                    break;
                case "SyntaxError":
                    Assert.Equal(JinjaErrorKind.Syntax, e.Kind);
                    break;
                case "TemplateError":
                    Assert.Equal(JinjaErrorKind.Raised, e.Kind);
                    Assert.Equal(message, e.Problem);
                    break;
                case "UndefinedError":
                    Assert.Equal(JinjaErrorKind.Undefined, e.Kind);
                    Assert.Equal(message, e.Problem);
                    break;
                case "SecurityError":
                    Assert.Equal(JinjaErrorKind.Security, e.Kind);
                    Assert.Equal(message, e.Problem);
                    break;
                default:
                    Assert.Equal(JinjaErrorKind.Type, e.Kind);
                    Assert.Equal(message, e.Problem);
                    break;
            }
            return;
        }
        var output = JinjaTemplate.Parse(template, name).WithClock(() => FixedNow).Render(context);
        Assert.Equal((string)c["output"]!, output.Text);
        var expectedSpans = c["generation"]!.AsArray().Select(s => ((int)s![0]!, (int)s[1]!)).ToList();
        Assert.Equal(expectedSpans, output.GenerationSpans.Select(s => (s.Start, s.End)).ToList());
    }
}
