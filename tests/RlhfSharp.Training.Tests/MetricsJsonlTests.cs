using System.Text;
using System.Text.Json;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

public class MetricsJsonlTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_763_755_515_500);

    private static Dictionary<string, double> Loss(double v) => new() { ["train/loss"] = v };

    private static List<JsonElement> ReadLines(string path)
    {
        // FileShare.ReadWrite: the sink may still hold the file open
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "every line ends with a newline");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static long[] Steps(string path) => ReadLines(path).Select(e => e.GetProperty("step").GetInt64()).ToArray();

    [Fact]
    public void EveryLine_IsJsonWithStepTimeAndScalars()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        using (var sink = new JsonlMetricSink(dir.Path, clock: clock))
        {
            sink.Log(1, new Dictionary<string, double> { ["train/loss"] = 1.23, ["objective/kl"] = -4e-7 });
            clock.Now = clock.Now.AddSeconds(2);
            sink.Log(2, new Dictionary<string, double> { ["train/loss"] = 0.1 + 0.2 });
        }
        var lines = ReadLines(Path.Combine(dir.Path, "metrics.jsonl"));
        Assert.Equal(2, lines.Count);
        Assert.Equal(["step", "time", "train/loss", "objective/kl"], lines[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, lines[0].GetProperty("step").GetInt64());
        Assert.Equal(1_763_755_515.5, lines[0].GetProperty("time").GetDouble());
        Assert.Equal(1.23, lines[0].GetProperty("train/loss").GetDouble());
        Assert.Equal(-4e-7, lines[0].GetProperty("objective/kl").GetDouble());
        Assert.Equal(1_763_755_517.5, lines[1].GetProperty("time").GetDouble());
        Assert.Equal(0.1 + 0.2, lines[1].GetProperty("train/loss").GetDouble()); // round-trips exactly
    }

    [Fact]
    public void NonFiniteValues_AreNamedStrings()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path, clock: new ManualClock(Start)))
            sink.Log(3, new Dictionary<string, double> { ["a/nan"] = double.NaN, ["a/inf"] = double.PositiveInfinity, ["a/ninf"] = double.NegativeInfinity });
        var raw = File.ReadAllText(Path.Combine(dir.Path, "metrics.jsonl"));
        Assert.Contains("\"a/nan\":\"NaN\"", raw);
        Assert.Contains("\"a/inf\":\"Infinity\"", raw);
        Assert.Contains("\"a/ninf\":\"-Infinity\"", raw);
        var line = ReadLines(Path.Combine(dir.Path, "metrics.jsonl")).Single();
        var options = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        Assert.True(double.IsNaN(line.GetProperty("a/nan").Deserialize<double>(options)));
        Assert.Equal(double.NegativeInfinity, line.GetProperty("a/ninf").Deserialize<double>(options));
    }

    [Fact]
    public void Text_GoesToSamplesFile()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path, clock: new ManualClock(Start)))
        {
            sink.Log(5, Loss(1));
            sink.LogText(5, "samples/generation", "line one\nline \"two\"");
        }
        Assert.Single(ReadLines(Path.Combine(dir.Path, "metrics.jsonl")));
        var sample = ReadLines(Path.Combine(dir.Path, "samples.jsonl")).Single();
        Assert.Equal(5, sample.GetProperty("step").GetInt64());
        Assert.Equal("samples/generation", sample.GetProperty("tag").GetString());
        Assert.Equal("line one\nline \"two\"", sample.GetProperty("text").GetString());
    }

    [Fact]
    public void NonAsciiText_IsWrittenUnescaped()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path))
            sink.LogText(1, "samples/x", "héllo 你好 \"q\"");
        var raw = File.ReadAllText(Path.Combine(dir.Path, "samples.jsonl"), System.Text.Encoding.UTF8);
        Assert.Contains("héllo 你好 \\\"q\\\"", raw);
        Assert.Equal("héllo 你好 \"q\"", ReadLines(Path.Combine(dir.Path, "samples.jsonl")).Single().GetProperty("text").GetString());
    }

    [Fact]
    public void Lines_AreInTheFileWithoutDispose()
    {
        using var dir = new TempDir();
        var sink = new JsonlMetricSink(dir.Path, clock: new ManualClock(Start));
        try
        {
            sink.Log(1, Loss(1));
            sink.Log(2, Loss(2));
            sink.LogText(2, "samples/x", "t");
            Assert.Equal([1L, 2L], Steps(sink.MetricsPath));
            Assert.Equal([2L], Steps(sink.SamplesPath));
        }
        finally
        {
            sink.Dispose();
        }
    }

    [Fact]
    public void WithoutAppend_StartsFilesAfresh()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path))
            sink.Log(1, Loss(1));
        using (var sink = new JsonlMetricSink(dir.Path))
            sink.Log(9, Loss(9));
        Assert.Equal([9L], Steps(Path.Combine(dir.Path, "metrics.jsonl")));
    }

    [Fact]
    public void Resume_DropsLaterStepsAndKeepsEarlierOnes()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path))
        {
            for (var step = 1; step <= 6; step++)
            {
                sink.Log(step, Loss(step));
                sink.LogText(step, "samples/x", $"s{step}");
            }
        }
        var before = File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl"));
        using (var sink = new JsonlMetricSink(dir.Path, append: true, resumeFromStep: 4))
        {
            sink.Log(5, Loss(50));
            sink.LogText(5, "samples/x", "resumed");
        }
        var metrics = Path.Combine(dir.Path, "metrics.jsonl");
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Steps(metrics));
        Assert.Equal(before[..4], File.ReadAllLines(metrics)[..4]); // earlier lines kept byte for byte
        Assert.Equal(50, ReadLines(metrics)[4].GetProperty("train/loss").GetDouble());
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Steps(Path.Combine(dir.Path, "samples.jsonl")));
        Assert.Equal("resumed", ReadLines(Path.Combine(dir.Path, "samples.jsonl"))[4].GetProperty("text").GetString());
        Assert.Equal(["metrics.jsonl", "samples.jsonl"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Append_WithoutResumeStep_KeepsEverything()
    {
        using var dir = new TempDir();
        using (var sink = new JsonlMetricSink(dir.Path))
            sink.Log(1, Loss(1));
        using (var sink = new JsonlMetricSink(dir.Path, append: true))
            sink.Log(2, Loss(2));
        Assert.Equal([1L, 2L], Steps(Path.Combine(dir.Path, "metrics.jsonl")));
    }

    [Fact]
    public void Resume_DropsTornLastLine()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metrics.jsonl");
        File.WriteAllText(path, "{\"step\":1,\"train/loss\":1}\n{\"step\":2,\"train/lo");
        using (var sink = new JsonlMetricSink(dir.Path, append: true, resumeFromStep: 1))
            sink.Log(2, Loss(2));
        Assert.Equal([1L, 2L], Steps(path));
    }

    [Fact]
    public void Resume_RejectsGarbageLineWithFileAndLine()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "metrics.jsonl");
        File.WriteAllText(path, "{\"step\":1}\nnot json\n{\"step\":3}\n");
        var ex = Assert.Throws<InvalidDataException>(() => new JsonlMetricSink(dir.Path, append: true, resumeFromStep: 1));
        Assert.Contains(path, ex.Message);
        Assert.Contains("line 2", ex.Message);
    }

    [Fact]
    public void ResumeStepWithoutAppend_IsRejected() =>
        Assert.Throws<ArgumentException>(() => new JsonlMetricSink("unused", append: false, resumeFromStep: 3));

    [Fact]
    public void ReservedName_IsRejected()
    {
        using var dir = new TempDir();
        using var sink = new JsonlMetricSink(dir.Path);
        Assert.Throws<ArgumentException>(() => sink.Log(1, new Dictionary<string, double> { ["time"] = 1 }));
    }
}
