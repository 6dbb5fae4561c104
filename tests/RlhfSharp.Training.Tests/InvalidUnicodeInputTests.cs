using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Training.Tests;

/// <summary>A lone surrogate escape in a data or label line is a data error naming file, line and field, never a crash.</summary>
public sealed class InvalidUnicodeInputTests : IDisposable
{
    // Written into the files as the six characters \ud800: a JSON escape with no second half.
    private const string Lone = "\\ud800";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void SftLineNamesFileLineAndField()
    {
        var path = _folder.Write("sft.jsonl",
            """{"prompt": "a", "completion": "b"}""",
            $$"""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x{{Lone}}y"}]}""");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.Equal((DataErrorKind.InvalidEncoding, 2, "messages[1].content"), (e.Kind, e.Line, e.Field));
        Assert.StartsWith($"{path}: line 2: field \"messages[1].content\"", e.Message);
        Assert.Contains("\\ud800", e.Message);
    }

    [Fact]
    public void PreferenceLinesAreSkippedAndCountedUnderSkipBadLines()
    {
        var path = _folder.Write("prefs.jsonl",
            """{"prompt": "p", "chosen": "a", "rejected": "b"}""",
            $$"""{"prompt": "p", "chosen": "{{Lone}}", "rejected": "b"}""",
            $$"""{"prompt": "p", "chosen": "a", "rejected": "b", "{{Lone}}": 1}""",
            """{"prompt": "q", "chosen": "c", "rejected": "d"}""");
        var data = PreferenceDataset.Load(path, new DataLoadOptions { SkipBadLines = true });
        Assert.Equal([1, 4], data.Select(x => x.Line));
        Assert.Equal(2, data.Report.SkippedByKind[DataErrorKind.InvalidEncoding]);
        Assert.Equal(["chosen", "a key in (root)"], data.Report.FirstErrors.Select(x => x.Field));
    }

    [Fact]
    public void PromptLineWithASecondHalfAloneIsAnError()
    {
        var path = _folder.Write("prompts.jsonl", """{"prompt": "fine \ud83d\ude00"}""", """{"prompt": "bad \udc00 here"}""");
        var e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(path));
        Assert.Equal((DataErrorKind.InvalidEncoding, 2, "prompt"), (e.Kind, e.Line, e.Field));
        Assert.Contains("second half", e.Message);
    }

    [Fact]
    public void LabelFileLineNamesFileLineAndField()
    {
        var path = _folder.Write("labels.jsonl", $$"""{"prompt": "{{Lone}}", "chosen": "a"}""", """{"y": 2}""");
        var e = Assert.Throws<DataFormatException>(() => LabelFiles.ReadFile(path, LabelFileKind.Preference));
        Assert.Equal((DataErrorKind.InvalidEncoding, 1, "prompt"), (e.Kind, e.Line, e.Field));
    }
}
