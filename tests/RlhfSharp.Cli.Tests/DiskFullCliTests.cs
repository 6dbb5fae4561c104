using System.Globalization;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// The command line on a full disk (a real tmpfs of a few hundred KiB): a usage error naming the
/// file and the full disk, no stack trace, and the file written before left as it was.
/// </summary>
public sealed class DiskFullCliTests
{
    private static string MetricsLine(int step) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"step\": {step}, \"time\": {1763755515.5 + step}, \"train/loss\": {2.0 / step}, \"train/learning_rate\": 0.001}}\n");

    [Fact]
    public void AReportOnAFullDiskIsAUsageErrorAndTheEarlierReportStays()
    {
        using var disk = new TinyDisk(kilobytes: 256);
        var run = Path.Combine(disk.Root, "run");
        Directory.CreateDirectory(run);
        var metrics = Path.Combine(run, "metrics.jsonl");
        File.WriteAllText(metrics, string.Concat(Enumerable.Range(1, 20).Select(MetricsLine)));
        var (code, _, err) = CliRun.Run("report", run);
        Assert.True(code == 0, err);
        var report = Path.Combine(run, "report.html");
        var before = File.ReadAllBytes(report);

        File.AppendAllText(metrics, string.Concat(Enumerable.Range(21, 20).Select(MetricsLine)));
        disk.Fill();
        var (code2, _, err2) = CliRun.Run("report", run);
        Assert.Equal(2, code2);
        Assert.Contains(report, err2);
        Assert.Contains("no space left on device", err2);
        Assert.DoesNotContain("   at ", err2);
        Assert.Equal(before, File.ReadAllBytes(report));
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }
}
