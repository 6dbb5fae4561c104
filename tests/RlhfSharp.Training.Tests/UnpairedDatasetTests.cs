using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

/// <summary>KTO's unpaired format, the unpairing of preference pairs, its errors, and the KL rows of the collator.</summary>
public sealed class UnpairedDatasetTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ReadsLabelledCompletionsAsStringsOrMessages()
    {
        var file = _folder.Write("kto.jsonl",
            """{"prompt": "What is 2 + 2?", "completion": "4.", "label": true}""",
            """{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Go away."}], "label": false, "source": "ignored"}""",
            """{"prompt": "Q1", "completion": [{"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}], "label": true}""");
        var set = UnpairedDataset.Load(file);
        Assert.Equal(3, set.Count);
        Assert.Equal(2, set.Desirable);
        Assert.Equal([ChatMessage.User("What is 2 + 2?")], set[0].Prompt);
        Assert.Equal(ChatMessage.Assistant("4."), set[0].Completion);
        Assert.True(set[0].Label);
        Assert.Equal([new ChatMessage("system", "Be brief."), ChatMessage.User("Hi")], set[1].Prompt);
        Assert.False(set[1].Label);
        Assert.Equal(2, set[1].Line);
        // Turns before the completion's final assistant turn join the prompt.
        Assert.Equal([ChatMessage.User("Q1"), ChatMessage.Assistant("A1"), ChatMessage.User("Q2")], set[2].Prompt);
        Assert.Equal(ChatMessage.Assistant("A2"), set[2].Completion);
    }

    [Fact]
    public void PreferencePairsAreUnpairedChosenTrueRejectedFalse()
    {
        var file = _folder.Write("prefs.jsonl",
            """{"prompt": "Sort: 3 1 2.", "chosen": "1 2 3.", "rejected": "Ugh. 1 2 3."}""",
            """{"prompt": "Which is bigger: 4 or 7?", "chosen": [{"role": "assistant", "content": "7."}], "rejected": "4."}""",
            """{"prompt": "Hi", "completion": "Hello.", "label": false}""");
        var set = UnpairedDataset.Load(file);
        Assert.Equal(5, set.Count);
        Assert.Equal([true, false, true, false, false], set.Select(e => e.Label));
        Assert.Equal(["1 2 3.", "Ugh. 1 2 3.", "7.", "4.", "Hello."], set.Select(e => e.Completion.Content));
        Assert.Equal(set[0].Prompt, set[1].Prompt);
        Assert.Equal([1, 1, 2, 2, 3], set.Select(e => e.Line));
    }

    public static TheoryData<string, DataErrorKind, string?> BadLines => new()
    {
        { """{"prompt": "p", "completion": "c"}""", DataErrorKind.MissingField, "label" },
        { """{"prompt": "p", "completion": "c", "label": "yes"}""", DataErrorKind.WrongType, "label" },
        { """{"prompt": "p", "completion": "c", "label": 1}""", DataErrorKind.WrongType, "label" },
        { """{"prompt": "p", "completion": "c", "label": null}""", DataErrorKind.WrongType, "label" },
        { """{"prompt": "p", "label": true}""", DataErrorKind.MissingField, "completion" },
        { """{"completion": "c", "label": true}""", DataErrorKind.MissingField, "prompt" },
        { """{"prompt": "p", "completion": "   ", "label": true}""", DataErrorKind.EmptyResponse, "completion" },
        { """{"prompt": "p", "completion": 5, "label": true}""", DataErrorKind.WrongType, "completion" },
        { """{"prompt": 5, "completion": "c", "label": true}""", DataErrorKind.WrongType, "prompt" },
        { """{"prompt": "p", "completion": [], "label": true}""", DataErrorKind.InvalidDialogue, "completion" },
        { """{"prompt": "p", "completion": [{"role": "user", "content": "c"}], "label": true}""", DataErrorKind.InvalidDialogue, "completion[0].role" },
        { """{"prompt": "p", "completion": [{"role": "assistant", "content": ""}], "label": false}""", DataErrorKind.EmptyResponse, "completion" },
        { """{"prompt": "p", "chosen": "same", "rejected": "same"}""", DataErrorKind.IdenticalResponses, "rejected" },
        { """{"prompt": "p", "chosen": "a"}""", DataErrorKind.MissingField, "rejected" },
        { """{"prompt": "p", "completion": "c", "label": true""", DataErrorKind.InvalidJson, null },
        { """[true]""", DataErrorKind.NotAnObject, null },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void AMalformedLineNamesFileLineAndField(string bad, DataErrorKind kind, string? field)
    {
        var file = _folder.Write("bad.jsonl", """{"prompt": "ok", "completion": "fine", "label": true}""", bad);
        var ex = Assert.Throws<DataFormatException>(() => UnpairedDataset.Load(file));
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(2, ex.Line);
        Assert.Equal(field, ex.Field);
        Assert.StartsWith($"{file}: line 2: ", ex.Message, StringComparison.Ordinal);
        if (field is not null)
            Assert.Contains($"\"{field}\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkippedBadLinesAreCountedAndTheRestKept()
    {
        var file = _folder.Write("mixed.jsonl",
            """{"prompt": "a", "completion": "b", "label": "no"}""",
            """{"prompt": "a", "completion": "b", "label": false}""");
        var set = UnpairedDataset.Load(file, new DataLoadOptions { SkipBadLines = true });
        Assert.Single(set);
        Assert.Equal(1, set.Report.Skipped);
    }

    [Fact]
    public void TheKlRowsPairEachPromptWithThePreviousCompletion()
    {
        var tokenizer = DataTestSupport.Tokenizer;
        var collator = new UnpairedCollator(tokenizer, ChatTemplate.Get("chatml"), new CollatorOptions { MaxLength = 64, PadTokenId = tokenizer.PadTokenId });
        UnpairedExample Example(string prompt, string completion, bool label) => new([ChatMessage.User(prompt)], ChatMessage.Assistant(completion), label, "t", 1);
        var rows = new[] { Example("the sea", "waves roll", true), Example("the sky", "gulls cry", false), Example("hello", "fine thanks", true) };
        var batch = collator.Collate(rows);
        var kl = collator.CollateMismatched(rows);
        Assert.Equal(3, batch.InputIds.Size(0));
        Assert.Equal(3, collator.Stats.Examples); // the KL rows are not counted
        Assert.Equal(batch.Lengths.ToIntArray(), rows.Select(collator.Length).ToArray());
        Assert.Equal(3, collator.Stats.Examples); // nor the lengths for grouping
        // Row i of the KL batch = prompt i (as in the batch) + completion i − 1 (as in the batch).
        int[] prompts = batch.PromptLengths.ToIntArray(), lengths = batch.Lengths.ToIntArray();
        int[] klPrompts = kl.PromptLengths.ToIntArray(), klLengths = kl.Lengths.ToIntArray();
        for (int i = 0; i < 3; i++)
        {
            int from = (i + 2) % 3;
            var expected = Row(batch, i)[..prompts[i]].Concat(Row(batch, from)[prompts[from]..lengths[from]]).ToArray();
            Assert.Equal(prompts[i], klPrompts[i]);
            Assert.Equal(expected, Row(kl, i)[..klLengths[i]]);
            var mask = kl.ResponseMask.ToArray().AsSpan(i * kl.InputIds.Size(1), kl.InputIds.Size(1)).ToArray();
            Assert.Equal(klLengths[i] - klPrompts[i], (int)mask.Sum());
        }
    }

    private static int[] Row(SequenceBatch batch, int row)
    {
        int t = batch.InputIds.Size(1);
        return batch.InputIds.ToIntArray().AsSpan(row * t, t).ToArray();
    }
}
