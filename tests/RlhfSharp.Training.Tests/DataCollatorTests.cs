using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

public sealed class DataCollatorTests
{
    private static readonly BpeTokenizer Tok = DataTestSupport.Tokenizer;

    private static SftExample Sft(string prompt, string completion, int line = 1)
        => new([ChatMessage.User(prompt), ChatMessage.Assistant(completion)], "mem.jsonl", line);

    private static int[] Row(Tensor t, int b)
    {
        int width = t.Shape[1];
        var data = t.Dtype == DType.Int32 ? t.ToIntArray() : t.ToArray().Select(x => (int)x).ToArray();
        return data.AsSpan(b * width, width).ToArray();
    }

    private static int[] Where(int[] ids, int[] mask) => ids.Where((_, i) => mask[i] == 1).ToArray();

    [Theory]
    [InlineData("chatml", "the sea<|im_end|>")]
    [InlineData("llama3", "the sea<|eot_id|>")]
    [InlineData("plain", " the sea\n")]
    public void Loss_mask_covers_exactly_the_completion_and_its_end_marker(string templateName, string trainedText)
    {
        var template = ChatTemplate.Get(templateName);
        var collator = new SftCollator(Tok, template);
        var batch = collator.Collate([Sft("what is blue and big?", "the sea"), Sft("hi", "ok")]);

        var ids = Row(batch.InputIds, 0);
        var loss = Row(batch.LossMask, 0);
        var attention = Row(batch.AttentionMask, 0);
        Assert.Equal(Tok.Encode(trainedText), Where(ids, loss));
        int length = attention.Sum();
        int firstTrained = Array.IndexOf(loss, 1);
        Assert.All(loss.AsSpan(firstTrained, length - firstTrained).ToArray(), x => Assert.Equal(1, x));
        var prompt = template.Render([ChatMessage.User("what is blue and big?")], addGenerationPrompt: true).Text;
        Assert.Equal(prompt, Tok.Decode(ids.AsSpan(0, firstTrained)));
        Assert.Equal(prompt + trainedText, Tok.Decode(ids.AsSpan(0, length)));

        var labels = Row(batch.Labels, 0);
        for (int t = 0; t < ids.Length; t++) Assert.Equal(loss[t] == 1 ? ids[t] : SftBatch.IgnoreIndex, labels[t]);
    }

    [Fact]
    public void Sft_batches_are_right_padded_with_masks_zero_on_padding()
    {
        var collator = new SftCollator(Tok, ChatTemplate.ChatMl);
        var batch = collator.Collate([Sft("a much longer prompt about the sea and the sky", "waves"), Sft("hi", "ok")]);
        Assert.Equal(DType.Int32, batch.InputIds.Dtype);
        Assert.Equal(batch.InputIds.Shape, batch.LossMask.Shape);
        var ids = Row(batch.InputIds, 1);
        var attention = Row(batch.AttentionMask, 1);
        int length = attention.Sum();
        Assert.True(length < ids.Length);
        Assert.All(attention.AsSpan(0, length).ToArray(), x => Assert.Equal(1, x));
        Assert.All(attention.AsSpan(length).ToArray(), x => Assert.Equal(0, x));
        Assert.All(ids.AsSpan(length).ToArray(), x => Assert.Equal(Tok.PadTokenId!.Value, x));
        Assert.All(Row(batch.LossMask, 1).AsSpan(length).ToArray(), x => Assert.Equal(0, x));
        Assert.Equal(Tok.PadTokenId, collator.PadTokenId);
    }

    [Fact]
    public void Earlier_assistant_turns_are_trained_only_on_request()
    {
        SftExample example = new(
            [ChatMessage.User("hi"), ChatMessage.Assistant("first"), ChatMessage.User("again"), ChatMessage.Assistant("second")], "mem.jsonl", 1);
        var lastOnly = new SftCollator(Tok, ChatTemplate.ChatMl).Tokenize(example);
        Assert.Equal(Tok.Encode("second<|im_end|>"), Trained(lastOnly));
        var all = new SftCollator(Tok, ChatTemplate.ChatMl, new SftCollatorOptions { TrainOnAllAssistantTurns = true }).Tokenize(example);
        Assert.Equal(Tok.Encode("first<|im_end|>").Concat(Tok.Encode("second<|im_end|>")), Trained(all));
    }

    [Fact]
    public void Whole_sequence_loss_trains_every_token_after_the_first()
    {
        var (ids, trained) = new SftCollator(Tok, ChatTemplate.Llama3, new SftCollatorOptions { CompletionOnlyLoss = false }).Tokenize(Sft("hi", "ok"));
        Assert.False(trained[0]);
        Assert.All(trained.Skip(1), Assert.True);
        Assert.Equal(ids.Length, trained.Length);
    }

    [Fact]
    public void Appended_eos_is_trained()
    {
        var collator = new SftCollator(Tok, ChatTemplate.Plain, new SftCollatorOptions { AppendEosToken = true });
        var tokenized = collator.Tokenize(Sft("hi", "ok"));
        Assert.Equal(Tok.Encode(" ok\n" + DataTestSupport.Eos), Trained(tokenized));
        Assert.Equal(Tok.EosTokenId, tokenized.Ids[^1]);
    }

    [Fact]
    public void Sft_truncates_prompt_from_the_left_and_completion_from_the_right()
    {
        var example = Sft("the waves roll in and the gulls cry over the sea", "I am fine, thank you for asking, and how are you today?");
        var full = new SftCollator(Tok, ChatTemplate.Plain).Tokenize(example);
        int promptLength = Array.IndexOf(full.Trained, true);
        var collator = new SftCollator(Tok, ChatTemplate.Plain, new SftCollatorOptions { MaxPromptLength = 5, MaxLength = 9 });
        var cut = collator.Tokenize(example);
        Assert.Equal(9, cut.Ids.Length);
        Assert.Equal(full.Ids.AsSpan(promptLength - 5, 5).ToArray(), cut.Ids[..5]);
        Assert.Equal(full.Ids.AsSpan(promptLength, 4).ToArray(), cut.Ids[5..]);
        Assert.Equal([false, false, false, false, false, true, true, true, true], cut.Trained);

        Assert.Equal((1L, 1L, 1L, 1L), (collator.Stats.Examples, collator.Stats.TruncatedExamples, collator.Stats.PromptTruncated, collator.Stats.ResponseTruncated));
        var fits = collator.Tokenize(new SftExample([ChatMessage.Assistant("ok")], "mem.jsonl", 2));
        Assert.True(fits.Ids.Length < 9);
        Assert.Equal((2L, 1L, 1L, 1L), (collator.Stats.Examples, collator.Stats.TruncatedExamples, collator.Stats.PromptTruncated, collator.Stats.ResponseTruncated));
        // The length used to group batches is the truncated row's, and counts nothing.
        Assert.Equal((9, fits.Ids.Length), (collator.Length(example), collator.Length(new SftExample([ChatMessage.Assistant("ok")], "mem.jsonl", 2))));
        Assert.Equal(full.Ids.Length, new SftCollator(Tok, ChatTemplate.Plain).Length(example));
        Assert.Equal(2L, collator.Stats.Examples);
        collator.Stats.Reset();
        Assert.Equal(0, collator.Stats.Examples);
    }

    [Fact]
    public void Without_max_prompt_length_the_prompt_still_leaves_one_response_token()
    {
        var collator = new SftCollator(Tok, ChatTemplate.ChatMl, new SftCollatorOptions { MaxLength = 4 });
        var (ids, trained) = collator.Tokenize(Sft("the waves roll in and the gulls cry", "the sea"));
        Assert.Equal(4, ids.Length);
        Assert.Equal([false, false, false, true], trained);
    }

    [Fact]
    public void Too_long_without_truncation_names_file_line_and_lengths()
    {
        int fits = new SftCollator(Tok, ChatTemplate.ChatMl).Tokenize(Sft("hi", "ok")).Ids.Length;
        var collator = new SftCollator(Tok, ChatTemplate.ChatMl, new SftCollatorOptions { MaxLength = fits, Truncation = false });
        var e = Assert.Throws<DataFormatException>(() => collator.Collate([Sft("hi", "ok"), Sft("the waves roll in and the gulls cry", "I am fine, thank you for asking, and how are you today?", line: 7)]));
        Assert.Equal((DataErrorKind.TooLong, "mem.jsonl", 7, "completion"), (e.Kind, e.File, e.Line, e.Field));
        Assert.Matches(@"prompt \+ completion is \d+ tokens \(prompt \d+, completion \d+\), over MaxLength " + fits, e.Message);

        var prompts = new SftCollator(Tok, ChatTemplate.ChatMl, new SftCollatorOptions { MaxPromptLength = 3, MaxLength = 100, Truncation = false });
        var p = Assert.Throws<DataFormatException>(() => prompts.Tokenize(Sft("the waves roll in", "ok", line: 3)));
        Assert.Equal((3, "prompt"), (p.Line, p.Field));
        Assert.Contains("over MaxPromptLength 3", p.Message);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SftCollator(Tok, ChatTemplate.Plain, new SftCollatorOptions { MaxLength = 10, MaxPromptLength = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromptCollator(Tok, ChatTemplate.Plain, new CollatorOptions { MaxLength = 1 }));
        Assert.Throws<ArgumentException>(() => new SftCollator(Tok, ChatTemplate.Plain).Collate([]));
    }

    private static int[] Trained((int[] Ids, bool[] Trained) row) => row.Ids.Where((_, i) => row.Trained[i]).ToArray();
}
