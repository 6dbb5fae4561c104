using RlhfSharp.Cli.Reporting;

namespace RlhfSharp.Report.Tests;

/// <summary>Reading metrics.jsonl and samples.jsonl: what is accepted, and how a bad line is reported.</summary>
public sealed class MetricsParsingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-parse-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void SeriesKeepTheirStepsAndNonFiniteValuesAsTheSinkWritesThem()
    {
        var path = Write("metrics.jsonl",
            "{\"step\": 0, \"time\": 1.5, \"eval/loss\": 3.25}\n" +
            "\n" +
            "{\"step\": 1, \"time\": 2.5, \"train/loss\": 2, \"x\": \"NaN\", \"y\": \"Infinity\", \"z\": \"-Infinity\"}\n" +
            "{\"step\": 2, \"train/loss\": 1.5}\n");
        var m = StageMetrics.Read(path);
        Assert.Equal(["eval/loss", "train/loss", "x", "y", "z"], m.Series.Select(s => s.Name));
        Assert.Equal(3, m.Records);
        Assert.Equal(2, m.LastStep);
        Assert.True(m.TryGet("train/loss", out var loss));
        Assert.Equal([(1L, 2.0), (2L, 1.5)], loss.Points);
        Assert.True(m.TryGet("x", out var x) && double.IsNaN(x.Latest.Value));
        Assert.True(m.TryGet("y", out var y) && double.IsPositiveInfinity(y.Latest.Value));
        Assert.True(m.TryGet("z", out var z) && double.IsNegativeInfinity(z.Latest.Value));
        Assert.False(m.Has("time")); // a record field, not a metric
    }

    [Fact]
    public void AMalformedLineIsAnErrorNamingFileAndLine()
    {
        var path = Write("metrics.jsonl", "{\"step\": 1, \"train/loss\": 2}\n{\"step\": 2, \"train/loss\": 1.9}\n{\"step\": 3, \"train/loss\": \n{\"step\": 4, \"train/loss\": 1.7}\n");
        var e = Assert.Throws<ReportInputException>(() => StageMetrics.Read(path));
        Assert.StartsWith($"{path}:3: not valid JSON", e.Message);
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    [Theory]
    [InlineData("{\"train/loss\": 1}", "no \"step\"")]
    [InlineData("{\"step\": -1, \"train/loss\": 1}", "\"step\" is -1, expected a whole number >= 0")]
    [InlineData("{\"step\": 1.5, \"train/loss\": 1}", "\"step\" is 1.5")]
    [InlineData("{\"step\": 1, \"train/loss\": \"low\"}", "metric \"train/loss\" is \"low\"")]
    [InlineData("{\"step\": 1, \"train/loss\": [1, 2]}", "metric \"train/loss\" is [1, 2]")]
    [InlineData("[1, 2]", "a JSON array where a JSON object was expected")]
    public void RecordsThatAreNotMetricsNameTheLineAndTheProblem(string bad, string expected)
    {
        var path = Write("metrics.jsonl", "{\"step\": 1, \"train/loss\": 2}\n" + bad + "\n");
        var e = Assert.Throws<ReportInputException>(() => StageMetrics.Read(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AnUnterminatedLastLineIsLeftForLaterWhenItDoesNotParse()
    {
        // A trainer writing its next line: what is there so far is not yet a record.
        var path = Write("metrics.jsonl", "{\"step\": 1, \"train/loss\": 2}\n{\"step\": 2, \"train/lo");
        var m = StageMetrics.Read(path);
        Assert.Equal(1, m.Records);
        // Complete but for its newline, it counts.
        File.AppendAllText(path, "ss\": 1.5}");
        Assert.Equal(2, StageMetrics.Read(path).Records);
    }

    [Fact]
    public void TextLogLinesNeedStepTagAndText()
    {
        var good = Write("samples.jsonl", "{\"step\": 3, \"time\": 1, \"tag\": \"samples\", \"text\": \"a => b\"}\n");
        Assert.Equal([new TextLogEntry(3, "samples", "a => b")], TextLog.Read(good));
        var bad = Write("bad.jsonl", "{\"step\": 3, \"tag\": \"samples\"}\n");
        var e = Assert.Throws<ReportInputException>(() => TextLog.Read(bad));
        Assert.StartsWith($"{bad}:1: expected an object", e.Message);
    }

    [Fact]
    public void AFolderWithoutMetricsIsAClearError()
    {
        var e = Assert.Throws<ReportInputException>(() => RunData.Load(_dir));
        Assert.Contains("no metrics.jsonl in the folder or its subfolders", e.Message);
        var missing = Path.Combine(_dir, "nope");
        Assert.Contains("run folder not found", Assert.Throws<ReportInputException>(() => RunData.Load(missing)).Message);
        Assert.Empty(RunData.Load(_dir, allowEmpty: true).Stages);
    }

    [Fact]
    public void InvalidUnicodeInAMetricsLineIsAnErrorNamingLineAndField()
    {
        var path = Write("metrics.jsonl", "{\"step\": 1, \"train/loss\": 2}\n{\"step\": 2, \"bad\\ud800\": 1}\n");
        var e = Assert.Throws<ReportInputException>(() => StageMetrics.Read(path));
        Assert.StartsWith($"{path}:2: field \"a key in (root)\": ", e.Message);
        Assert.Contains("\\ud800", e.Message);

        var samples = Write("samples.jsonl", "{\"step\": 3, \"tag\": \"samples\", \"text\": \"a \\udfff b\"}\n");
        e = Assert.Throws<ReportInputException>(() => TextLog.Read(samples));
        Assert.StartsWith($"{samples}:1: field \"text\": ", e.Message);

        var bytes = "{\"step\": 1, \"train/loss\": 2}\n{\"step\": 2, \"x\": \""u8.ToArray().Concat(new byte[] { 0xFF }).Concat("\"}\n"u8.ToArray()).ToArray();
        File.WriteAllBytes(path, bytes);
        e = Assert.Throws<ReportInputException>(() => StageMetrics.Read(path));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains("not valid UTF-8", e.Message);
    }
}
