using System.Text.Json.Nodes;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Labelling.Tests;

/// <summary><c>rlhf label stats</c> as typed, on the hand-worked example of <see cref="AgreementTests"/>.</summary>
public sealed class LabelStatsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-stats-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PrintsCountsAgreementAndKappaAsWorkedOutByHand()
    {
        var (prefs, judge) = AgreementTests.WriteExample(_dir);
        var (code, text, err) = Run("label", "stats", prefs, "--judge_file", judge);
        Assert.True(code == 0, err);
        Assert.Contains("22 labels on 10 pairs by 3 labellers", text);
        var anaBo = text.Split('\n').Single(l => l.TrimStart().StartsWith("ana", StringComparison.Ordinal) && l.Contains("bo", StringComparison.Ordinal));
        Assert.Contains("70.0 %", anaBo);
        Assert.Contains("0.565", anaBo); // 0.39 / 0.69
        Assert.Contains("overall agreement: 75.0 % over 12 shared pairs", text);
        Assert.Contains("agreement with the judge in", text);
        Assert.Contains("44.4 %", text); // ana against the judge: 4 of 9

        var (jsonCode, json, _) = Run("label", "stats", prefs, "--judge-file", judge, "--json");
        Assert.Equal(0, jsonCode);
        var report = JsonNode.Parse(json)!;
        var pair = report["pairwise"]!.AsArray().Single(p => p!["x"]!.GetValue<string>() == "ana" && p["y"]!.GetValue<string>() == "bo")!;
        Assert.Equal(0.7, pair["agreement"]!.GetValue<double>(), 12);
        Assert.Equal(0.31, pair["chance_agreement"]!.GetValue<double>(), 12);
        Assert.Equal(0.39 / 0.69, pair["kappa"]!.GetValue<double>(), 12);
        var withJudge = report["with_judge"]!.AsArray().Single(p => p!["x"]!.GetValue<string>() == "ana")!;
        Assert.Equal(4.0 / 9, withJudge["agreement"]!.GetValue<double>(), 12);
        Assert.Equal(3.0 / 48, withJudge["kappa"]!.GetValue<double>(), 12);
    }

    [Fact]
    public void AMissingOrBadFileIsAUsageErrorNamingIt()
    {
        var (code, _, err) = Run("label", "stats", Path.Combine(_dir, "none.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("none.jsonl", err);

        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"prompt\": \"x\", \"chosen\": \"a\", \"rejected\": \"b\"}\n");
        (code, _, err) = Run("label", "stats", bad);
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl: line 1", err);
        Assert.Contains("labeller", err);
    }
}
