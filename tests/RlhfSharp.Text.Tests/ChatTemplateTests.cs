using RlhfSharp.Text.Chat;

namespace RlhfSharp.Text.Tests;

public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("Be brief."),
        ChatMessage.User("Hi there"),
        ChatMessage.Assistant("Hello! How can I help?"),
        ChatMessage.User("Add 2+2."),
        ChatMessage.Assistant("4"),
    ];

    [Fact]
    public void ChatMl_renders_exactly()
    {
        var r = ChatTemplate.ChatMl.Render(Conversation);
        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n" +
            "<|im_start|>user\nHi there<|im_end|>\n" +
            "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n" +
            "<|im_start|>user\nAdd 2+2.<|im_end|>\n" +
            "<|im_start|>assistant\n4<|im_end|>\n", r.Text);
        Assert.Equal(new[] { "Hello! How can I help?<|im_end|>", "4<|im_end|>" }, r.AssistantSpans.Select(s => s.Of(r.Text)));
    }

    [Fact]
    public void Llama3_renders_exactly()
    {
        var r = ChatTemplate.Llama3.Render(Conversation[..3]);
        Assert.Equal(
            "<|begin_of_text|>" +
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>", r.Text);
        var span = Assert.Single(r.AssistantSpans);
        Assert.Equal("Hello! How can I help?<|eot_id|>", span.Of(r.Text));
        Assert.Equal(r.Text.Length, span.End);
    }

    [Fact]
    public void Plain_renders_exactly()
    {
        var r = ChatTemplate.Plain.Render(Conversation[1..3]);
        Assert.Equal("User: Hi there\nAssistant: Hello! How can I help?\n", r.Text);
        Assert.Equal(" Hello! How can I help?\n", Assert.Single(r.AssistantSpans).Of(r.Text));
    }

    [Fact]
    public void Generation_prompt_is_appended_when_asked()
    {
        ChatMessage[] prompt = [ChatMessage.User("Hi")];
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", ChatTemplate.ChatMl.Render(prompt, addGenerationPrompt: true).Text);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n", ChatTemplate.ChatMl.Render(prompt).Text);
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplate.Llama3.Render(prompt, addGenerationPrompt: true).Text);
        Assert.Equal("User: Hi\nAssistant:", ChatTemplate.Plain.Render(prompt, addGenerationPrompt: true).Text);
        Assert.Empty(ChatTemplate.Plain.Render(prompt, addGenerationPrompt: true).AssistantSpans);
    }

    [Fact]
    public void Templates_are_found_by_name()
    {
        Assert.Same(ChatTemplate.ChatMl, ChatTemplate.Get("chatml"));
        Assert.Same(ChatTemplate.Llama3, ChatTemplate.Get("LLAMA3"));
        Assert.Same(ChatTemplate.Plain, ChatTemplate.Get("plain"));
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.Get("vicuna"));
        Assert.Contains("chatml, llama3, plain", e.Message);
    }

    [Fact]
    public void ChatMl_mask_covers_exactly_the_assistant_content_and_end_token()
    {
        var tokenizer = Fixtures.Qwen3;
        var enc = ChatTemplate.ChatMl.Encode(tokenizer, Conversation);
        Assert.Equal(enc.Ids.Length, enc.AssistantMask.Length);

        // Piecewise tokenization agrees with tokenizing the whole rendered text here.
        Assert.Equal(tokenizer.Encode(ChatTemplate.ChatMl.Render(Conversation).Text), enc.Ids);

        var runs = MaskedRuns(enc);
        Assert.Equal(2, runs.Count);
        Assert.Equal(tokenizer.Encode("Hello! How can I help?<|im_end|>"), runs[0]);
        Assert.Equal(tokenizer.Encode("4<|im_end|>"), runs[1]);
        Assert.Equal(151645, runs[0][^1]);
        Assert.Equal(151645, runs[1][^1]);
        // The token after each assistant run is the "\n" of the template, not masked.
        int end = Array.LastIndexOf(enc.AssistantMask, true);
        Assert.Equal(enc.Ids.Length - 2, end);
        Assert.Equal("\n", tokenizer.Decode(enc.Ids[^1..]));
    }

    [Fact]
    public void Llama3_and_plain_masks_cover_the_assistant_turns()
    {
        var gpt2 = Fixtures.Gpt2;
        var plain = ChatTemplate.Plain.Encode(gpt2, Conversation[1..3]);
        Assert.Equal(gpt2.Encode(" Hello! How can I help?\n"), Assert.Single(MaskedRuns(plain)));
        Assert.Equal(gpt2.Encode("User: Hi there\nAssistant: Hello! How can I help?\n"), plain.Ids);

        var llama = ChatTemplate.Llama3.Encode(Fixtures.Qwen3, Conversation);
        var runs = MaskedRuns(llama);
        Assert.Equal(2, runs.Count);
        Assert.Equal("4<|eot_id|>", Fixtures.Qwen3.Decode(runs[1]));
        Assert.False(llama.AssistantMask[^(runs[1].Length + 1)]);
    }

    [Fact]
    public void Generation_prompt_encoding_has_no_assistant_tokens()
    {
        var enc = ChatTemplate.ChatMl.Encode(Fixtures.Qwen3, [ChatMessage.User("Hi")], addGenerationPrompt: true);
        Assert.DoesNotContain(true, enc.AssistantMask);
        Assert.Equal(new[] { 151644, 77091, 198 }, enc.Ids[^3..]); // <|im_start|> assistant \n
    }

    [Fact]
    public void Rejects_malformed_messages()
    {
        Assert.Throws<ArgumentException>(() => ChatTemplate.ChatMl.Render([new ChatMessage("", "x")]));
        Assert.Throws<ArgumentException>(() => ChatTemplate.ChatMl.Render([new ChatMessage("user", null!)]));
    }

    private static List<int[]> MaskedRuns(ChatEncoding enc)
    {
        var runs = new List<int[]>();
        var current = new List<int>();
        for (int i = 0; i <= enc.Ids.Length; i++)
        {
            if (i < enc.Ids.Length && enc.AssistantMask[i]) current.Add(enc.Ids[i]);
            else if (current.Count > 0)
            {
                runs.Add([.. current]);
                current.Clear();
            }
        }
        return runs;
    }
}
