using RlhfSharp.Training.Pipeline;

namespace RlhfSharp.Training.Tests;

/// <summary>results.md's per-skill tables.</summary>
public sealed class SkillTablesTests
{
    private static SkillRow Row(string skill, double? gold, double? win, double? ideal, double kl = 0, double words = 3) => new(skill, 5, gold, win, ideal, kl, words);

    [Fact]
    public void RowsAreSkillsColumnsArePoliciesAndEachCellIsMarkedAgainstSft()
    {
        var text = SkillTables.Markdown(
        [
            ("sft", [Row("arithmetic", -0.5, null, 0.25), Row("sorting", 0.2, null, 0.4)]),
            ("ppo", [Row("arithmetic", 0.1, 0.7, 0.5), Row("sorting", -0.3, 0.35, 0.2)]),
            ("dpo", [Row("arithmetic", -0.5, 0.5, 0.25), Row("sorting", 0.2, 0.5, 0.4)]),
        ]);
        Assert.Contains("| skill | prompts | sft | ppo | dpo |\n|---|---|---|---|---|\n", text.ReplaceLineEndings("\n"));
        Assert.Contains("| arithmetic | 5 | — / -0.500 | 0.700 / 0.100 ▲ | 0.500 / -0.500 |", text);
        Assert.Contains("| sorting | 5 | — / 0.200 | 0.350 / -0.300 ▼ | 0.500 / 0.200 |", text);
        Assert.Contains("share of ideal answers", text);
        Assert.Contains("| arithmetic | 0.250 | 0.500 | 0.250 |", text);
        Assert.Contains("| sorting | 0.400 | 0.200 | 0.400 |", text);
    }

    [Fact]
    public void NoSkillsNoText()
    {
        Assert.Equal("", SkillTables.Markdown([]));
        Assert.Equal("", SkillTables.Markdown([("sft", []), ("ppo", [])]));
    }

    [Fact]
    public void WithoutAGoldScorerTheTableHoldsKlAndWordsOnly()
    {
        var text = SkillTables.Markdown([("sft", [Row("chat", null, null, null, 0, 6)]), ("dpo", [Row("chat", null, null, null, 1.25, 4.5)])], "mean over seeds 1, 2");
        Assert.Contains("Per skill: KL to SFT / response words (mean over seeds 1, 2):", text);
        Assert.Contains("| chat | 5 | 0.00 / 6.0 | 1.25 / 4.5 |", text);
        Assert.DoesNotContain("gold", text);
        Assert.DoesNotContain("ideal", text);
    }

    [Fact]
    public void ASkillNameCannotBreakTheTable()
    {
        var text = SkillTables.Markdown([("sft", [Row("a|b\nc", null, null, null)])]);
        Assert.Contains("| a\\|b c | 5 | 0.00 / 3.0 |", text);
    }
}
