using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Text.Tests;

/// <summary>Choosing the chat template (one place), and what a built-in template refuses.</summary>
public sealed class ChatTemplateChoiceTests
{
    private static readonly ChatMessage[] Chat = [ChatMessage.System("s"), ChatMessage.User("u")];

    [Fact]
    public void NoNameIsTheDefaultAndNamesIgnoreCase()
    {
        Assert.Equal("chatml", ChatTemplateChoice.Resolve(null, null).Template.Name);
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
        Assert.Equal("chat template 'zephyr' is unknown; use one of the built-in templates: chatml, llama3, plain.", e.Message);
    }

    [Fact]
    public void ToolsWithABuiltInTemplateAreRefused()
    {
        var tool = JsonNode.Parse("""{"type": "function", "function": {"name": "f"}}""");

        var e = Assert.Throws<ChatTemplateException>(() => ChatTemplateChoice.Resolve(null, "llama3").Render(Chat, [tool]));

        Assert.Contains("the built-in template 'llama3' cannot render tools (1 given)", e.Message);
    }
}
