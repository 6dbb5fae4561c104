using System.Text;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Tests;

/// <summary>Each malformed line is reported with its file, line and field, and says what would be right.</summary>
public sealed class DataErrorTests : IDisposable
{
    private const string HhChosen = "\\n\\nHuman: Hi\\n\\nAssistant: Hello!";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string, string, DataErrorKind, string?> BadLines => new()
    {
        { "sft", """{"prompt": "a", "completion": }""", DataErrorKind.InvalidJson, null },
        { "sft", """["prompt", "completion"]""", DataErrorKind.NotAnObject, null },
        { "sft", """{"prompt": "a"}""", DataErrorKind.MissingField, "completion" },
        { "sft", """{"completion": "a"}""", DataErrorKind.MissingField, "prompt" },
        { "sft", """{"prompt": "a", "completion": 5}""", DataErrorKind.WrongType, "completion" },
        { "sft", """{"prompt": true, "completion": "b"}""", DataErrorKind.WrongType, "prompt" },
        { "sft", """{"prompt": "a", "completion": "  "}""", DataErrorKind.EmptyResponse, "completion" },
        { "sft", """{"messages": "hi"}""", DataErrorKind.WrongType, "messages" },
        { "sft", """{"messages": []}""", DataErrorKind.InvalidDialogue, "messages" },
        { "sft", """{"messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}]}""", DataErrorKind.UnknownRole, "messages[1].role" },
        { "sft", """{"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}""", DataErrorKind.MissingField, "messages[0].content" },
        { "sft", """{"messages": [{"role": "user", "content": 3}, {"role": "assistant", "content": "a"}]}""", DataErrorKind.WrongType, "messages[0].content" },
        { "sft", """{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}""", DataErrorKind.InvalidDialogue, "messages[1].role" },
        { "sft", """{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}""", DataErrorKind.EmptyResponse, "messages[1].content" },
        { "pref", """{"prompt": "p", "chosen": "same", "rejected": "same"}""", DataErrorKind.IdenticalResponses, "rejected" },
        { "pref", """{"prompt": "p", "chosen": "", "rejected": "b"}""", DataErrorKind.EmptyResponse, "chosen" },
        { "pref", """{"prompt": "p", "chosen": "a", "rejected": ""}""", DataErrorKind.EmptyResponse, "rejected" },
        { "pref", """{"prompt": "p", "chosen": "a"}""", DataErrorKind.MissingField, "rejected" },
        { "pref", """{"prompt": "p", "chosen": 5, "rejected": "b"}""", DataErrorKind.WrongType, "chosen" },
        { "pref", """{"chosen": "a", "rejected": [{"role": "assistant", "content": "b"}]}""", DataErrorKind.MissingField, "prompt" },
        { "pref", """{"prompt": "p", "chosen": [{"role": "user", "content": "b"}], "rejected": "b"}""", DataErrorKind.InvalidDialogue, "chosen[0].role" },
        { "pref", """{"chosen": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a"}], "rejected": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "b"}]}""", DataErrorKind.InvalidDialogue, "rejected" },
        { "pref", $$"""{"chosen": "{{HhChosen}}", "rejected": "\n\nHuman: Hey\n\nAssistant: Go away."}""", DataErrorKind.InvalidDialogue, "rejected" },
        { "pref", """{"chosen": "Hi there", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}""", DataErrorKind.InvalidDialogue, "chosen" },
        { "pref", $$"""{"chosen": "{{HhChosen}}", "rejected": "\n\nHuman: Hi\n\nAssistant: "}""", DataErrorKind.EmptyResponse, "rejected" },
        { "pref", $$"""{"chosen": "{{HhChosen}}", "rejected": "{{HhChosen}}"}""", DataErrorKind.IdenticalResponses, "rejected" },
        { "tie", """{"prompt": "p", "response_a": "same", "response_b": "same"}""", DataErrorKind.IdenticalResponses, "response_b" },
        { "tie", """{"prompt": "p", "response_a": " ", "response_b": "b"}""", DataErrorKind.EmptyResponse, "response_a" },
        { "tie", """{"prompt": "p", "response_a": "a", "response_b": ""}""", DataErrorKind.EmptyResponse, "response_b" },
        { "tie", """{"prompt": "p", "response_a": "a"}""", DataErrorKind.MissingField, "response_b" },
        { "tie", """{"prompt": "p", "chosen": "a", "rejected": "b"}""", DataErrorKind.MissingField, "response_a" },
        { "tie", """{"response_a": "a", "response_b": "b"}""", DataErrorKind.MissingField, "prompt" },
        { "tie", """{"prompt": "p", "response_a": ["a"], "response_b": "b"}""", DataErrorKind.WrongType, "response_a" },
        { "tie", """{"prompt": "p", "response_a": "a", "response_b": "b", "label": 1}""", DataErrorKind.WrongType, "label" },
        { "prompt", """{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}""", DataErrorKind.InvalidDialogue, "messages[1].role" },
        { "prompt", """{"prompt": ""}""", DataErrorKind.EmptyPrompt, "prompt" },
        { "prompt", """{"question": "q"}""", DataErrorKind.MissingField, "prompt" },
        { "prompt", """{"messages": [{"role": "narrator", "content": "q"}]}""", DataErrorKind.UnknownRole, "messages[0].role" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void Bad_line_names_file_line_and_field(string format, string badLine, DataErrorKind kind, string? field)
    {
        var path = _folder.Write($"{format}.jsonl", GoodLine(format), badLine, GoodLine(format));
        var e = Assert.Throws<DataFormatException>(() => Load(format, path));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(path, e.File);
        Assert.Equal(2, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"{path}: line 2: ", e.Message);
        if (field is not null) Assert.Contains($"field \"{field}\": ", e.Message);
        Assert.True(e.Problem.Length > 20, e.Message);
    }

    [Fact]
    public void Ties_are_read_from_a_ties_file_and_from_the_human_labelling_side_file()
    {
        var path = _folder.Write("ties.jsonl",
            """{"prompt": "q", "response_a": "a", "response_b": "b", "judge": "gold"}""",
            """{"prompt": [{"role": "user", "content": "q2"}], "response_a": "c", "response_b": "d", "label": "tie", "labeller": "ann"}""",
            """{"prompt": "q3", "response_a": "e", "response_b": "f", "label": "both_bad"}""",
            """{"prompt": "q4", "response_a": "g", "response_b": "h", "label": "skip"}""");
        var ties = PreferenceDataset.LoadTies(path);
        Assert.Equal(2, ties.Count);
        Assert.All(ties, t => Assert.True(t.Tie));
        Assert.Equal(("a", "b", 1), (ties[0].Chosen.Content, ties[0].Rejected.Content, ties[0].Line));
        Assert.Equal(("q2", 2), (ties[1].Prompt[0].Content, ties[1].Line));
        Assert.False(PreferenceDataset.Load(_folder.Write("p.jsonl", GoodLine("pref")))[0].Tie);
    }

    [Fact]
    public void Invalid_json_gives_the_column()
    {
        var path = _folder.Write("bad.jsonl", """{"prompt": "é", "completion" "x"}""");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.True(e.Message.Contains("invalid JSON at column 30", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void Mistyped_field_says_what_was_found()
    {
        var path = _folder.Write("typed.jsonl", """{"prompt": "a", "completion": 5}""");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.Contains("expected a string, found a number (5)", e.Message);
    }

    [Fact]
    public void Invalid_utf8_names_the_line_and_byte()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"prompt\": \"a\"}\n{\"prompt\": \"b").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\"}\n")).ToArray();
        var path = _folder.WriteBytes("latin.jsonl", bytes);
        var e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(path));
        Assert.Equal((DataErrorKind.InvalidEncoding, 2), (e.Kind, e.Line));
        Assert.Contains("invalid UTF-8 at byte 14", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n\t\n")]
    public void Empty_file_is_an_error(string text)
    {
        var path = _folder.WriteBytes("empty.jsonl", Encoding.UTF8.GetBytes(text));
        var e = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path));
        Assert.Equal((DataErrorKind.EmptyFile, 0, null), (e.Kind, e.Line, e.Field));
        Assert.StartsWith($"{path}: ", e.Message);
    }

    [Fact]
    public void Missing_file_is_an_error_naming_it()
    {
        var path = Path.Combine(_folder.Path, "nope.jsonl");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.Equal(DataErrorKind.FileNotFound, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Without_skipping_the_first_bad_line_throws()
    {
        var path = _folder.Write("two.jsonl", """{"prompt": "a", "completion": 1}""", """{"prompt": "a", "completion": ""}""");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.Equal(1, e.Line);
    }

    private static string GoodLine(string format) => format switch
    {
        "sft" => """{"prompt": "q", "completion": "a"}""",
        "pref" => """{"prompt": "q", "chosen": "a", "rejected": "b"}""",
        "tie" => """{"prompt": "q", "response_a": "a", "response_b": "b"}""",
        _ => """{"prompt": "q"}""",
    };

    private static object Load(string format, string path) => format switch
    {
        "sft" => SftDataset.Load(path),
        "pref" => PreferenceDataset.Load(path),
        "tie" => PreferenceDataset.LoadTies(path),
        _ => PromptDataset.Load(path),
    };
}
