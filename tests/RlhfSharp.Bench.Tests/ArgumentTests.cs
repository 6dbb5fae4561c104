using System.Globalization;

namespace RlhfSharp.Bench.Tests;

/// <summary>Bad command lines of the side-by-side verbs name the option at fault (and stop before any peer runs).</summary>
public sealed class ArgumentTests
{
    private static BenchUsageException Refused(Func<BenchArgs, int> verb, params string[] args) =>
        Assert.Throws<BenchUsageException>(() => verb(new BenchArgs("verb", args)));

    [Fact]
    public void ANonPositiveRoundCountNamesRounds()
    {
        var e = Refused(TrainStepBench.Run, "--vs-torch", "--rounds", "0");
        Assert.Contains("--rounds", e.Message, StringComparison.Ordinal);
        Assert.Contains("positive integers", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMisspeltOptionIsNamedWithTheKnownOnes()
    {
        var e = Refused(GenerateBench.Run, "--vs-torch", "--round", "3");
        Assert.Contains("unknown option --round;", e.Message, StringComparison.Ordinal);
        Assert.Contains("--rounds", e.Message, StringComparison.Ordinal);
        Assert.Contains("--new-tokens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSingleCaseTrainStepRefusesTheSideBySideOptions()
    {
        // --rounds belongs to --vs-torch; without it the option is unknown, not silently ignored.
        var e = Refused(TrainStepBench.Run, "--rounds", "3");
        Assert.Contains("unknown option --rounds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownSingleCaseNamesCaseAndTheKnownCases()
    {
        var e = Refused(TrainStepBench.Run, "--case", "gpt3");
        Assert.Contains("--case: unknown case 'gpt3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("gpt2-6m, llama-6m, pipeline", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownCaseNamesCasesAndTheKnownCases()
    {
        var e = Refused(TrainStepBench.Run, "--vs-torch", "--cases", "llama-6m,gpt3");
        Assert.Contains("--cases", e.Message, StringComparison.Ordinal);
        Assert.Contains("'gpt3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("gpt2-6m, llama-6m, pipeline", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyCaseListIsRefused()
    {
        var e = Refused(SuiteBench.Run, "--cases", ",");
        Assert.Contains("--cases", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadToleranceNamesTolerance()
    {
        var e = Refused(PeerCheckBench.Run, "--tolerance", "-1");
        Assert.Contains("--tolerance", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFlagGivenAValueIsRefused()
    {
        var e = Refused(SuiteBench.Run, "--markdown=yes");
        Assert.Contains("--markdown takes no value", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePeerIsGivenEveryShapeSettingOfTheCase()
    {
        // The peer has its own defaults; a setting not passed on (the pipeline's 1e-6 eps, its 2
        // kv heads, GPT-2's position table) would make it a different model.
        foreach (var name in LmCase.Names)
        {
            var c = LmCase.Get(name);
            var args = c.PeerModelArgs();
            string Value(string flag) => args[Array.IndexOf(args, flag) + 1];
            Assert.Equal(c.Config.HiddenSize.ToString(CultureInfo.InvariantCulture), Value("--hidden"));
            Assert.Equal(c.Config.NumKeyValueHeads.ToString(CultureInfo.InvariantCulture), Value("--kv-heads"));
            Assert.Equal(c.Config.IntermediateSize.ToString(CultureInfo.InvariantCulture), Value("--intermediate"));
            Assert.Equal(c.Config.MaxPositions.ToString(CultureInfo.InvariantCulture), Value("--max-positions"));
            Assert.Equal(c.Config.NormEps, float.Parse(Value("--norm-eps"), CultureInfo.InvariantCulture));
            Assert.Equal(c.Config.TieWordEmbeddings ? "1" : "0", Value("--tied"));
        }
        Assert.Equal(1e-6f, LmCase.Get("pipeline").Config.NormEps);
        Assert.Equal(160, LmCase.Get("gpt2-6m").WithPositions(160).Config.MaxPositions);
    }
}
