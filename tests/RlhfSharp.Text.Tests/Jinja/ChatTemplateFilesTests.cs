using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Text.Jinja;

namespace RlhfSharp.Text.Tests.Jinja;

/// <summary>Finding a model's chat template in its tokenizer folder, and the errors a malformed folder gives.</summary>
public sealed class ChatTemplateFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rlhf-chat-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WriteConfig(JsonObject config) => File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), config.ToJsonString());

    private static readonly ChatMessage[] OneTurn = [ChatMessage.User("q")];

    private string RenderWith(string? name = null) => JinjaChatTemplate.FromTokenizerDirectory(_dir, name)!.Render(OneTurn).Text;

    [Fact]
    public void A_folder_without_a_template_gives_null()
    {
        Assert.Null(JinjaChatTemplate.FromTokenizerDirectory(_dir));
        WriteConfig(new JsonObject { ["eos_token"] = "</s>" });
        Assert.Null(JinjaChatTemplate.FromTokenizerDirectory(_dir));
    }

    [Fact]
    public void A_string_template_gets_the_configs_special_tokens()
    {
        WriteConfig(new JsonObject
        {
            ["chat_template"] = "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}{{ additional_special_tokens | join(',') }}",
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["lstrip"] = false },
            ["eos_token"] = "</s>",
            ["unk_token"] = null,
            ["additional_special_tokens"] = new JsonArray("<a>", new JsonObject { ["content"] = "<b>" }),
        });
        var template = JinjaChatTemplate.FromTokenizerDirectory(_dir)!;
        Assert.Equal("<s>q</s><a>,<b>", template.Render(OneTurn).Text);
        Assert.Equal("</s>", template.EndOfTurn);
        Assert.False(template.SpecialTokens.ContainsKey("unk_token"));
    }

    [Fact]
    public void The_named_list_form_picks_default_unless_a_name_is_asked()
    {
        WriteConfig(new JsonObject
        {
            ["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools:{{ messages[0].content }}" },
                new JsonObject { ["name"] = "default", ["template"] = "default:{{ messages[0].content }}" }),
        });
        Assert.Equal("default:q", RenderWith());
        Assert.Equal("tools:q", RenderWith("tool_use"));
        var e = Assert.Throws<TokenizerFormatException>(() => JinjaChatTemplate.FromTokenizerDirectory(_dir, "rag"));
        Assert.Contains("no chat template named \"rag\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"tool_use\", \"default\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chat_template_jinja_wins_over_the_config_and_named_files_are_found()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "config" });
        File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), "file:{{ messages[0].content }}\n");
        Directory.CreateDirectory(Path.Combine(_dir, "additional_chat_templates"));
        File.WriteAllText(Path.Combine(_dir, "additional_chat_templates", "tool_use.jinja"), "tools:{{ messages | length }}");
        Assert.Equal("file:q", RenderWith());
        Assert.Equal("tools:1", RenderWith("tool_use"));
        Assert.Throws<TokenizerFormatException>(() => JinjaChatTemplate.FromTokenizerDirectory(_dir, "other"));
    }

    [Theory]
    [InlineData("{\"chat_template\": 5}", "chat_template", "the number 5")]
    [InlineData("{\"chat_template\": [{\"name\": \"default\"}]}", "chat_template[0].template", "missing")]
    [InlineData("{\"chat_template\": [{\"name\": 1, \"template\": \"x\"}]}", "chat_template[0].name", "expected a string")]
    [InlineData("{\"chat_template\": \"x\", \"eos_token\": 3}", "eos_token", "the number 3")]
    [InlineData("{\"chat_template\": \"x\", \"additional_special_tokens\": \"<a>\"}", "additional_special_tokens", "expected a JSON array")]
    [InlineData("{\"chat_template\": \"x\",", "line 1", "invalid JSON")]
    [InlineData("[1]", "(root)", "expected a JSON object")]
    public void A_malformed_config_names_the_key_and_the_problem(string json, string location, string problem)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), json);
        var e = Assert.Throws<TokenizerFormatException>(() => JinjaChatTemplate.FromTokenizerDirectory(_dir));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Contains("tokenizer_config.json", e.File, StringComparison.Ordinal);
        Assert.StartsWith(location, e.Location, StringComparison.Ordinal);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_template_names_where_it_came_from_and_the_line()
    {
        WriteConfig(new JsonObject { ["chat_template"] = "{% for m in messages %}\n{{ m.content }}\n{% endif %}" });
        var e = Assert.Throws<JinjaTemplateException>(() => JinjaChatTemplate.FromTokenizerDirectory(_dir));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.EndsWith("tokenizer_config.json: chat_template", e.TemplateName, StringComparison.Ordinal);
        Assert.Equal(3, e.Line);
        Assert.Contains("'endif'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'for'", e.Message, StringComparison.Ordinal);
    }
}
