using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

public class MetricsRunFolderTests
{
    [Fact]
    public void Create_MakesFolderUnderRoot()
    {
        using var dir = new TempDir();
        var run = RunFolder.Create(Path.Combine(dir.Path, "runs"), "ppo-tiny");
        Assert.True(Directory.Exists(run.Path));
        Assert.Equal(Path.Combine(dir.Path, "runs", "ppo-tiny"), run.Path);
    }

    [Fact]
    public void Create_RefusesNonEmptyExistingFolderUnlessAllowed()
    {
        using var dir = new TempDir();
        var run = RunFolder.Create(dir.Path, "r");
        run.WriteConfig("a: 1\n");
        var ex = Assert.Throws<IOException>(() => RunFolder.Create(dir.Path, "r"));
        Assert.Contains(run.Path, ex.Message);
        Assert.Equal(run.Path, RunFolder.Create(dir.Path, "r", allowExisting: true).Path);
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    public void Create_RejectsNamesThatAreNotPlain(string name)
    {
        using var dir = new TempDir();
        Assert.ThrowsAny<ArgumentException>(() => RunFolder.Create(dir.Path, name));
    }

    [Fact]
    public void Open_MissingFolderNamesIt()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => RunFolder.Open(missing));
        Assert.Contains(missing, ex.Message);
    }

    [Fact]
    public void AtomicWrites_OverwriteAndLeaveNoTempFiles()
    {
        using var dir = new TempDir();
        var run = RunFolder.Create(dir.Path, "r");
        run.WriteConfig("lr: 1e-5\n");
        run.WriteConfig("lr: 3e-6\nbatch_size: 8\n");
        run.WriteSummary(new JsonObject { ["final/loss"] = 0.5 });
        run.WriteSummary(new JsonObject { ["final/loss"] = 0.25, ["status"] = "done" });
        Assert.Equal("lr: 3e-6\nbatch_size: 8\n", File.ReadAllText(run.ConfigPath));
        var summary = JsonDocument.Parse(File.ReadAllText(run.SummaryPath)).RootElement;
        Assert.Equal(0.25, summary.GetProperty("final/loss").GetDouble());
        Assert.Equal("done", summary.GetProperty("status").GetString());
        Assert.Equal(["config.resolved.yaml", "summary.json"], Directory.GetFileSystemEntries(run.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Summary_WritesNonFiniteAsNamedStrings()
    {
        using var dir = new TempDir();
        var run = RunFolder.Create(dir.Path, "r");
        run.WriteSummary(new JsonObject { ["eval/loss"] = double.NaN });
        var summary = JsonDocument.Parse(File.ReadAllText(run.SummaryPath)).RootElement;
        Assert.Equal("NaN", summary.GetProperty("eval/loss").GetString());
    }

    [Fact]
    public void Checkpoints_AreListedNumericallyAndOthersSkipped()
    {
        using var dir = new TempDir();
        var run = RunFolder.Create(dir.Path, "r");
        foreach (var name in new[] { "checkpoint-10", "checkpoint-9", "checkpoint-100", "checkpoint-2", "checkpoint-10.tmp", "checkpoint-", "checkpoint-x", "logs" })
            Directory.CreateDirectory(Path.Combine(run.Path, name));
        File.WriteAllText(Path.Combine(run.Path, "checkpoint-5"), "a file, not a folder");
        var list = run.ListCheckpoints();
        Assert.Equal([2L, 9L, 10L, 100L], list.Select(c => c.Step));
        Assert.Equal(Path.Combine(run.Path, "checkpoint-10"), list[2].Path);
        Assert.Equal(100, run.LatestCheckpoint()!.Step);
        Assert.Equal(Path.Combine(run.Path, "checkpoint-42"), run.CheckpointPath(42));
    }

    [Fact]
    public void LatestCheckpoint_IsNullWhenNone()
    {
        using var dir = new TempDir();
        Assert.Null(RunFolder.Create(dir.Path, "r").LatestCheckpoint());
    }

    [Fact]
    public void TimestampedName_UsesUtc()
    {
        var time = new DateTimeOffset(2026, 11, 21, 21, 5, 15, TimeSpan.FromHours(1));
        Assert.Equal("ppo-20261121-200515", RunFolder.TimestampedName("ppo", time));
    }
}
