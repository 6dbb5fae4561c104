namespace RlhfSharp.Fuzz.Tests;

/// <summary>
/// Every seed and every input the fuzzer once crashed a parser with, run through its harness in this
/// process: a crash (an exception that is not a user error), a hang or a runaway allocation fails.
/// </summary>
public class ReplayTests
{
    /// <summary>Longer than any parser needs for these small files even on a loaded machine.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string> Seeds => FuzzInputs.Files("corpus");

    public static TheoryData<string, string> Regressions => FuzzInputs.Files("regressions");

    [Theory]
    [MemberData(nameof(Seeds))]
    public void SeedIsAccepted(string target, string file)
    {
        var outcome = Replay(target, file, out string? refusal);
        Assert.True(outcome == Outcome.Accepted, $"{file}: the seed should be a valid {target} input, but the parser refused it: {refusal}");
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void RegressionInputDoesNotCrash(string target, string file) => Replay(target, file, out _);

    [Fact]
    public void EveryTargetHasSeeds()
    {
        foreach (var target in Targets.All)
        {
            string dir = Path.Combine(FuzzInputs.Folder("corpus"), target.Name);
            Assert.True(Directory.Exists(dir) && Directory.GetFiles(dir).Length > 0, $"{dir}: the fuzz target {target.Name} has no seeds");
        }
    }

    [Theory]
    [InlineData("corpus")]
    [InlineData("regressions")]
    public void EveryInputFolderNamesATarget(string kind)
    {
        string folder = FuzzInputs.Folder(kind);
        if (!Directory.Exists(folder))
        {
            Assert.Equal("regressions", kind);
            return;
        }
        var names = Targets.All.Select(t => t.Name).ToHashSet();
        foreach (var dir in Directory.GetDirectories(folder))
            Assert.True(names.Contains(Path.GetFileName(dir)), $"{dir} names no fuzz target; valid: {string.Join(", ", names)}");
    }

    private static Outcome Replay(string target, string file, out string? refusal)
    {
        var fuzzTarget = Targets.Get(target);
        byte[] input = File.ReadAllBytes(Path.Combine(SetupScript.RepoRoot(), file));
        using var scratch = new Scratch();
        string? why = null;
        var run = Task.Factory.StartNew(() => Harness.Run(fuzzTarget, input, scratch, out why), TaskCreationOptions.LongRunning);
        bool finished;
        try
        {
            finished = run.Wait(HangLimit);
        }
        catch (AggregateException e)
        {
            Assert.Fail($"{file}: the {target} parser crashed on this input: {e.InnerException}");
            throw;
        }
        Assert.True(finished, $"{file}: the {target} parser was still running after {HangLimit.TotalSeconds} s (a hang)");
        refusal = why;
        return run.Result;
    }
}
