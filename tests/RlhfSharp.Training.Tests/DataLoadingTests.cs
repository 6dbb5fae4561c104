using System.Text;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

public sealed class DataLoadingTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Sft_prompt_completion_becomes_user_and_assistant_turns()
    {
        var path = _folder.Write("sft.jsonl",
            """{"prompt": "What is 2+2?", "completion": "4", "id": 17}""",
            "",
            """{"prompt": "", "completion": "Just text."}""");
        var data = SftDataset.Load(path);
        Assert.Equal(2, data.Count);
        Assert.Equal(["user", "assistant"], data[0].Messages.Select(m => m.Role));
        Assert.Equal("What is 2+2?", data[0].Messages[0].Content);
        Assert.Equal("4", data[0].Completion);
        Assert.Equal((path, 1), (data[0].Source, data[0].Line));
        Assert.Equal(3, data[1].Line);
        Assert.Single(data[1].Messages);
        Assert.Equal(3, data.Report.Lines);
        Assert.Equal(2, data.Report.Loaded);
        Assert.Equal(0, data.Report.Skipped);
    }

    [Fact]
    public void Sft_messages_keep_all_turns_with_the_last_as_completion()
    {
        var path = _folder.Write("chat.jsonl",
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}, {"role": "User", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]}""");
        var example = Assert.Single(SftDataset.Load(path));
        Assert.Equal(["system", "user", "assistant", "user", "assistant"], example.Messages.Select(m => m.Role));
        Assert.Equal("Bye!", example.Completion);
        Assert.Equal(4, example.Prompt.Count);
    }

    [Fact]
    public void Preference_with_string_prompt_and_responses()
    {
        var path = _folder.Write("pref.jsonl",
            """{"prompt": "Say hi", "chosen": "Hi!", "rejected": "No.", "labeller": "a7", "ratings": [5, 2], "note": null, "timestamp": "2024-01-01T00:00:00Z"}""");
        var pair = Assert.Single(PreferenceDataset.Load(path));
        Assert.Equal("Say hi", Assert.Single(pair.Prompt).Content);
        Assert.Equal(("assistant", "Hi!"), (pair.Chosen.Role, pair.Chosen.Content));
        Assert.Equal("No.", pair.Rejected.Content);
        Assert.Equal(1, pair.Line);
    }

    [Fact]
    public void Preference_with_assistant_message_lists_and_with_whole_dialogues()
    {
        var path = _folder.Write("pref.jsonl",
            """{"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}]}""",
            """{"chosen": [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "good2"}], "rejected": [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "bad2"}]}""");
        var data = PreferenceDataset.Load(path);
        Assert.Equal("Q", Assert.Single(data[0].Prompt).Content);
        Assert.Equal(("good", "bad"), (data[0].Chosen.Content, data[0].Rejected.Content));
        Assert.Equal(("user", "Q2"), (Assert.Single(data[1].Prompt).Role, data[1].Prompt[0].Content));
        Assert.Equal(("good2", "bad2"), (data[1].Chosen.Content, data[1].Rejected.Content));
    }

    [Fact]
    public void Hh_dialogues_split_at_the_last_assistant_marker()
    {
        var chosen = "\n\nHuman: What is the capital of France?\n\nAssistant: Paris, I think.\n\nHuman: Sure?\n\nAssistant: Yes, Paris.";
        var rejected = "\n\nHuman: What is the capital of France?\n\nAssistant: Paris, I think.\n\nHuman: Sure?\n\nAssistant: No idea.";
        var path = _folder.Write("hh.jsonl", Json(new { chosen, rejected }));
        var pair = Assert.Single(PreferenceDataset.Load(path));
        Assert.Equal(["user", "assistant", "user"], pair.Prompt.Select(m => m.Role));
        Assert.Equal(["What is the capital of France?", "Paris, I think.", "Sure?"], pair.Prompt.Select(m => m.Content));
        Assert.Equal("Yes, Paris.", pair.Chosen.Content);
        Assert.Equal("No idea.", pair.Rejected.Content);
    }

    [Fact]
    public void Prompts_from_strings_and_messages_keep_extra_fields()
    {
        var path = _folder.Write("prompts.jsonl",
            """{"prompt": "2+3=?", "answer": "5"}""",
            """{"messages": [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "7*6=?"}], "answer": 42}""",
            """{"prompt": "extra completion is ignored", "completion": "x"}""");
        var data = PromptDataset.Load(path);
        Assert.Equal(3, data.Count);
        Assert.Equal("2+3=?", Assert.Single(data[0].Messages).Content);
        Assert.Equal("5", data[0].Extra["answer"].GetString());
        Assert.Equal(2, data[1].Messages.Count);
        Assert.Equal(42, data[1].Extra["answer"].GetInt32());
        Assert.True(data[2].Extra.ContainsKey("completion"));
    }

    [Fact]
    public void Crlf_line_ends_and_a_byte_order_mark_are_accepted()
    {
        var text = "\uFEFF{\"prompt\": \"a\", \"completion\": \"b\"}\r\n{\"prompt\": \"c\", \"completion\": \"d\"}\r\n";
        var path = _folder.WriteBytes("crlf.jsonl", Encoding.UTF8.GetBytes(text));
        var data = SftDataset.Load(path);
        Assert.Equal(["b", "d"], data.Select(e => e.Completion));
    }

    [Fact]
    public void Streams_load_with_a_source_name()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("{\"prompt\": \"p\"}\n"));
        var data = PromptDataset.Load(stream, "memory");
        Assert.Equal("memory", data[0].Source);
    }

    [Fact]
    public void Skip_bad_lines_counts_each_reason_and_keeps_the_first_errors()
    {
        var path = _folder.Write("mixed.jsonl",
            """{"prompt": "ok", "chosen": "a", "rejected": "b"}""",
            """{"prompt": "ok", "chosen": "a", "rejected": "a"}""",
            """{"prompt": "ok", "chosen": "", "rejected": "b"}""",
            """{"prompt": "ok", "chosen": "a" """,
            """{"prompt": "ok", "chosen": 5, "rejected": "b"}""",
            """{"prompt": "ok", "chosen": "a", "rejected": "a"}""",
            """{"prompt": "fine", "chosen": "x", "rejected": "y"}""");
        var data = PreferenceDataset.Load(path, new DataLoadOptions { SkipBadLines = true, MaxReportedErrors = 3 });
        Assert.Equal([1, 7], data.Select(e => e.Line));
        var report = data.Report;
        Assert.Equal((7, 2, 5), (report.Lines, report.Loaded, report.Skipped));
        Assert.Equal(2, report.SkippedByKind[DataErrorKind.IdenticalResponses]);
        Assert.Equal(1, report.SkippedByKind[DataErrorKind.EmptyResponse]);
        Assert.Equal(1, report.SkippedByKind[DataErrorKind.InvalidJson]);
        Assert.Equal(1, report.SkippedByKind[DataErrorKind.WrongType]);
        Assert.Equal([2, 3, 4], report.FirstErrors.Select(e => e.Line));
        Assert.Contains("5 skipped", report.ToString());
        Assert.Contains("IdenticalResponses: 2", report.ToString());
    }

    [Fact]
    public void Skip_bad_lines_still_fails_when_nothing_is_left()
    {
        var path = _folder.Write("allbad.jsonl", "not json", "[1]");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path, new DataLoadOptions { SkipBadLines = true }));
        Assert.Equal(DataErrorKind.NoUsableLines, e.Kind);
        Assert.Contains(path, e.Message);
    }

    private static string Json(object value) => System.Text.Json.JsonSerializer.Serialize(value);
}
