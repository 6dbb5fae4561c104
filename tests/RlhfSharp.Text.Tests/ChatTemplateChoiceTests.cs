using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Text.Tests;

/// <summary>Choosing the chat template (one place), and what a built-in template refuses.</summary>
public sealed class ChatTemplateChoiceTests
{
    private static readonly ChatMessage[] Chat = [ChatMessage.System("s"), ChatMessage.User("u")];

    private static string Qwen3Dir => Fixtures.PathOf("qwen3");

    private static string Gpt2Dir => Fixtures.PathOf("gpt2");

    [Fact]
    public void NoNameIsTheDefaultAndNamesIgnoreCase()
    {
        Assert.Equal("chatml", ChatTemplateChoice.Resolve(null, null).Template.Name);
        Assert.Equal("chatml", ChatTemplateChoice.Resolve(Gpt2Dir, null).Template.Name);
        Assert.Equal("llama3", ChatTemplateChoice.Resolve("some/dir", " LLAMA3 ").Template.Name);
        Assert.Equal("built-in template 'plain'", ChatTemplateChoice.Resolve(null, "plain").Source);
        Assert.Equal("<|eot_id|>", ChatTemplateChoice.Resolve(null, "llama3").EndOfTurn);
    }

    [Fact]
    public void RenderingIsTheTemplatesOwnWithoutTools()
    {
        var choice = ChatTemplateChoice.Resolve(null, "chatml");

        Assert.Equal(ChatTemplate.ChatMl.Render(Chat, addGenerationPrompt: true).Text, choice.Render(Chat, [], addGenerationPrompt: true).Text);
        Assert.Equal(ChatTemplate.ChatMl.Encode(Fixtures.Qwen3, Chat).Ids, choice.Encode(Fixtures.Qwen3, Chat).Ids);
    }

    [Fact]
    public void AnUnknownNameListsTheTemplates()
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(null, "zephyr"));

        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Equal("chat template 'zephyr' is unknown; use auto (the tokenizer's own chat_template when it has one, else chatml), "
            + "tokenizer (its own, required; tokenizer:NAME for a named one), or a built-in template: chatml, llama3, plain.", e.Message);
    }

    [Fact]
    public void TheDefaultIsTheTokenizersOwnTemplateWhenItHasOne()
    {
        var auto = ChatTemplateChoice.Resolve(Qwen3Dir, null);
        var own = JinjaChatTemplate.FromTokenizerDirectory(Qwen3Dir)!;
        var required = ChatTemplateChoice.Resolve(Qwen3Dir, "tokenizer");

        Assert.IsType<JinjaChatTemplate>(auto.Template);
        Assert.True(auto.RendersAnyMessage);
        Assert.Equal("<|im_end|>", auto.EndOfTurn);
        Assert.Contains(Qwen3Dir, auto.Source);
        var expected = own.Render(Chat, addGenerationPrompt: true);
        Assert.Equal(expected.Text, auto.Render(Chat, addGenerationPrompt: true).Text);
        Assert.Equal(expected.Text, required.Render(Chat, addGenerationPrompt: true).Text);
        // Qwen3 writes its generation prompt with an empty thinking block only when asked; ChatML would not differ here, so check a tool list.
        var tool = JsonNode.Parse("""{"type": "function", "function": {"name": "get_weather"}}""");
        Assert.Contains("get_weather", auto.Render(Chat, [tool], addGenerationPrompt: true).Text);
    }

    [Fact]
    public void RequiringTheTokenizersTemplateFailsClearlyWhenItHasNone()
    {
        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(Gpt2Dir, "tokenizer"));
        var noDir = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(null, "tokenizer"));

        Assert.Contains($"{Gpt2Dir} has no chat template", e.Message);
        Assert.Contains("chatml, llama3, plain", e.Message);
        Assert.Contains("needs a tokenizer folder", noDir.Message);
    }

    [Fact]
    public void JsonMessagesKeepEveryFieldForTheModelsTemplateAndOnlyRoleAndContentForABuiltInOne()
    {
        var messages = new[]
        {
            JsonNode.Parse("""{"role": "user", "content": "Weather in Paris?"}""")!,
            JsonNode.Parse("""{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}""")!,
        };

        var own = ChatTemplateChoice.Resolve(Qwen3Dir, null).Render(messages, null, addGenerationPrompt: false);
        var builtIn = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(Qwen3Dir, "chatml").Render(messages, null, false));
        var plain = ChatTemplateChoice.Resolve(null, "chatml").Render([messages[0]], null, addGenerationPrompt: true);

        Assert.Contains("<tool_call>", own.Text);
        Assert.Contains("\"city\": \"Paris\"", own.Text);
        Assert.Equal("messages[1].tool_calls: the built-in template 'chatml' renders only \"role\" and \"content\"; leave \"tool_calls\" out, or use a tokenizer with its own chat_template.", builtIn.Message);
        Assert.Equal(ChatTemplate.ChatMl.Render([ChatMessage.User("Weather in Paris?")], addGenerationPrompt: true).Text, plain.Text);
    }

    [Fact]
    public void ToolsWithABuiltInTemplateAreRefused()
    {
        var tool = JsonNode.Parse("""{"type": "function", "function": {"name": "f"}}""");

        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(null, "llama3").Render(Chat, [tool]));

        Assert.Contains("the built-in template 'llama3' cannot render tools (1 given)", e.Message);
    }
}
