using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

public sealed class DataPreferenceAndPromptCollatorTests
{
    private static readonly BpeTokenizer Tok = DataTestSupport.Tokenizer;

    private static PreferenceExample Pair(string prompt, string chosen, string rejected)
        => new([ChatMessage.User(prompt)], ChatMessage.Assistant(chosen), ChatMessage.Assistant(rejected), "pairs.jsonl", 1);

    private static PromptExample Prompt(string text, int line = 1) => new([ChatMessage.User(text)], "prompts.jsonl", line);

    private static int[] Row(Tensor t, int b)
    {
        int width = t.Shape[1];
        var data = t.Dtype == DType.Int32 ? t.ToIntArray() : t.ToArray().Select(x => (int)x).ToArray();
        return data.AsSpan(b * width, width).ToArray();
    }

    [Theory]
    [InlineData("chatml", "<|im_end|>")]
    [InlineData("llama3", "<|eot_id|>")]
    [InlineData("plain", "\n")]
    public void Chosen_and_rejected_share_the_prompt_and_mask_only_their_responses(string templateName, string endOfTurn)
    {
        var template = ChatTemplate.Get(templateName);
        var batch = new PreferenceCollator(Tok, template).Collate([Pair("what is blue?", "the sea and the sky", "no"), Pair("hi", "hello", "go away")]);
        Assert.Equal(batch.Chosen.InputIds.Shape, batch.Rejected.InputIds.Shape);
        var promptIds = template.Encode(Tok, [ChatMessage.User("what is blue?")], addGenerationPrompt: true).Ids;
        Assert.Equal(promptIds.Length, batch.Chosen.PromptLengths.ToIntArray()[0]);
        Assert.Equal(batch.Chosen.PromptLengths.ToIntArray(), batch.Rejected.PromptLengths.ToIntArray());
        string space = templateName == "plain" ? " " : "";
        foreach (var (side, text) in new[] { (batch.Chosen, "the sea and the sky"), (batch.Rejected, "no") })
        {
            var ids = Row(side.InputIds, 0);
            var response = Row(side.ResponseMask, 0);
            int length = side.Lengths.ToIntArray()[0];
            Assert.Equal(length, Row(side.AttentionMask, 0).Sum());
            Assert.Equal(promptIds, ids[..promptIds.Length]);
            Assert.Equal(Tok.Encode(space + text + endOfTurn), ids.Where((_, i) => response[i] == 1));
            Assert.All(response[promptIds.Length..length], x => Assert.Equal(1, x));
            Assert.All(response[length..], x => Assert.Equal(0, x));
        }
    }

    [Fact]
    public void Preference_truncation_cuts_the_shared_prompt_left_and_each_response_right()
    {
        var pair = Pair("the waves roll in and the gulls cry over the sea", "I am fine, thank you for asking", "ok");
        var full = new PreferenceCollator(Tok, ChatTemplate.Plain).Tokenize(pair);
        var collator = new PreferenceCollator(Tok, ChatTemplate.Plain, new CollatorOptions { MaxPromptLength = 4, MaxLength = 7 });
        var (promptLength, chosen, rejected) = collator.Tokenize(pair);
        Assert.Equal(4, promptLength);
        Assert.Equal(full.Chosen.AsSpan(full.PromptLength - 4, 7).ToArray(), chosen);
        Assert.Equal(full.Rejected[(full.PromptLength - 4)..], rejected);
        Assert.Equal((1L, 1L, 1L, 1L), (collator.Stats.Examples, collator.Stats.TruncatedExamples, collator.Stats.PromptTruncated, collator.Stats.ResponseTruncated));
        // Grouping by length sees the longer (chosen) row as truncated, without counting the pair again.
        Assert.Equal(7, collator.LongerLength(pair));
        Assert.Equal(full.Chosen.Length, new PreferenceCollator(Tok, ChatTemplate.Plain).LongerLength(pair));
        Assert.True(full.Chosen.Length > full.Rejected.Length);
        Assert.Equal(full.Chosen.Length, new PreferenceCollator(Tok, ChatTemplate.Plain).LongerLength(Pair("the waves roll in and the gulls cry over the sea", "ok", "I am fine, thank you for asking")));
        Assert.Equal(1L, collator.Stats.Examples);

        var strict = new PreferenceCollator(Tok, ChatTemplate.Plain, new CollatorOptions { MaxLength = full.PromptLength + 3, Truncation = false });
        var e = Assert.Throws<DataFormatException>(() => strict.Collate([pair]));
        Assert.Equal(("pairs.jsonl", 1, "chosen", DataErrorKind.TooLong), (e.File, e.Line, e.Field, e.Kind));
    }

    [Fact]
    public void Prompts_are_left_padded_and_end_with_the_generation_prompt()
    {
        var template = ChatTemplate.ChatMl;
        var batch = new PromptCollator(Tok, template).Collate([Prompt("hi"), Prompt("write a short poem about the sea and the sky")]);
        var shortIds = template.Encode(Tok, [ChatMessage.User("hi")], addGenerationPrompt: true).Ids;
        var ids = Row(batch.InputIds, 0);
        var attention = Row(batch.AttentionMask, 0);
        int pad = ids.Length - shortIds.Length;
        Assert.True(pad > 0);
        Assert.Equal(shortIds, ids[pad..]);
        Assert.All(ids[..pad], x => Assert.Equal(Tok.PadTokenId!.Value, x));
        Assert.Equal(Enumerable.Repeat(0, pad).Concat(Enumerable.Repeat(1, shortIds.Length)), attention);
        Assert.All(Row(batch.AttentionMask, 1), x => Assert.Equal(1, x));
        Assert.Equal([shortIds.Length, ids.Length], batch.Lengths.ToIntArray());
        Assert.EndsWith("<|im_start|>assistant\n", Tok.Decode(Row(batch.InputIds, 1)));
    }

    [Fact]
    public void Prompts_are_truncated_from_the_left_or_rejected()
    {
        var example = Prompt("the waves roll in and the gulls cry over the sea", line: 4);
        var full = new PromptCollator(Tok, ChatTemplate.Llama3).Tokenize(example);
        var collator = new PromptCollator(Tok, ChatTemplate.Llama3, new CollatorOptions { MaxPromptLength = 6 });
        Assert.Equal(full[^6..], collator.Tokenize(example));
        Assert.Equal((1L, 1L), (collator.Stats.PromptTruncated, collator.Stats.TruncatedExamples));

        var strict = new PromptCollator(Tok, ChatTemplate.Llama3, new CollatorOptions { MaxPromptLength = 6, Truncation = false });
        var e = Assert.Throws<DataFormatException>(() => strict.Tokenize(example));
        Assert.Equal(("prompts.jsonl", 4, "prompt"), (e.File, e.Line, e.Field));
        Assert.Contains($"{full.Length} tokens", e.Message);
    }

    [Fact]
    public void Loaded_hh_pairs_collate_under_the_plain_template()
    {
        var pair = new PreferenceExample(
            [ChatMessage.User("what is blue?")], ChatMessage.Assistant("the sea"), ChatMessage.Assistant("no idea"), "hh.jsonl", 1);
        var batch = new PreferenceCollator(Tok, ChatTemplate.Plain).Collate([pair]);
        var chosen = Row(batch.Chosen.InputIds, 0)[..batch.Chosen.Lengths.ToIntArray()[0]];
        Assert.Equal("User: what is blue?\nAssistant: the sea\n", Tok.Decode(chosen));
    }
}
