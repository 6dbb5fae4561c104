using RlhfSharp.Cli.Reporting;

namespace RlhfSharp.Report.Tests;

/// <summary><c>rlhf report RUN_DIR</c> as a real process.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RegeneratesTheReportByteForByte()
    {
        var run = FakeRuns.Pipeline(Path.Combine(_dir, "pipe"));
        // What the pipeline writes at its end ...
        var written = ReportPage.Write(run);
        var before = File.ReadAllBytes(written);
        File.Delete(written);
        // ... is what `rlhf report` writes from the same files.
        var (code, output, err) = RlhfProcess.Run("report", run);
        Assert.True(code == 0, err);
        Assert.Contains($"wrote {written}", output);
        Assert.Equal(before, File.ReadAllBytes(written));

        var (code2, _, err2) = RlhfProcess.Run("report", "--run_dir", run, "--out", Path.Combine(_dir, "again.html"));
        Assert.True(code2 == 0, err2);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(_dir, "again.html")));
    }

    [Fact]
    public void ABadMetricsLineIsAUsageErrorNamingFileAndLine()
    {
        var stage = FakeRuns.Stage(_dir, "sft", [FakeRuns.Line(1, ("train/loss", 1)), "{\"step\": 2, \"train/loss\": oops}"], finished: false);
        var (code, _, err) = RlhfProcess.Run("report", stage);
        Assert.Equal(2, code);
        Assert.Contains($"error: {Path.Combine(stage, "metrics.jsonl")}:2: not valid JSON", err);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace
        Assert.False(File.Exists(Path.Combine(stage, "report.html")));
    }

    [Fact]
    public void RunDirIsRequiredAndGivenOnce()
    {
        var (code, _, err) = RlhfProcess.Run("report");
        Assert.Equal(2, code);
        Assert.Contains("run_dir is required", err);
        var (code2, _, err2) = RlhfProcess.Run("report", _dir, "--run_dir", _dir);
        Assert.Equal(2, code2);
        Assert.Contains("RUN_DIR was given both as an argument", err2);
    }
}
