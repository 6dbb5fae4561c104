using System.Text.Json.Nodes;
using RlhfSharp.Training.Evaluation;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf eval</c>'s mean score per skill of the prompts, worked out by hand.</summary>
public sealed class EvalComparisonPerSkillTests
{
    // Two prompts (parity, arithmetic), each answered twice: the answers run prompt 1, prompt 2, prompt 1, prompt 2.
    private static readonly string[] Skills = ["parity", "arithmetic", "parity", "arithmetic"];

    private static EvalComparison Comparison(IReadOnlyList<string>? skills) => new("gold", null, Prompts: 2, Temperature: 1f, Seed: 1,
        [new EvalModelResult("sft", "sft/model", ["a", "b", "c", "d"], [1.0, -1.0, 0.5, -0.5]),
         new EvalModelResult("ppo", "ppo/model", ["a", "b", "c", "d"], [-1.0, 1.0, -1.0, 0.25])],
        new double[2, 2], SamplesPerPrompt: 2, Skills: skills);

    [Fact]
    public void EachSkillAveragesItsOwnAnswersInNameOrder()
    {
        var rows = Comparison(Skills).PerSkill();
        // arithmetic: sft (−1 − 0.5)/2 = −0.75, ppo (1 + 0.25)/2 = 0.625; parity: sft (1 + 0.5)/2 = 0.75, ppo (−1 − 1)/2 = −1.
        Assert.Equal(["arithmetic", "parity"], rows.Select(r => r.Skill));
        Assert.Equal([1, 1], rows.Select(r => r.Prompts));
        Assert.Equal([-0.75, 0.625], rows[0].MeanScores);
        Assert.Equal([0.75, -1.0], rows[1].MeanScores);
    }

    [Fact]
    public void TheTableAndTheJsonCarryThePerSkillMeans()
    {
        var c = Comparison(Skills);
        var text = c.FormatTables().ReplaceLineEndings("\n");
        Assert.Contains("Mean gold per skill of the prompts:\n\n| skill | prompts | sft | ppo |\n|---|---|---|---|\n| arithmetic | 1 | -0.750 | 0.625 |\n| parity | 1 | 0.750 | -1.000 |\n", text);
        var json = c.ToJson();
        Assert.Equal(1, json["skill_prompts"]!["parity"]!.GetValue<int>());
        Assert.Equal(0.625, json["models"]![1]!["per_skill"]!["arithmetic"]!.GetValue<double>());
        Assert.Equal(-1.0, json["models"]![1]!["per_skill"]!["parity"]!.GetValue<double>());
    }

    [Fact]
    public void PromptsWithoutSkillsGiveNoPerSkillTable()
    {
        var c = Comparison(null);
        Assert.Empty(c.PerSkill());
        Assert.DoesNotContain("per skill", c.FormatTables());
        var json = c.ToJson();
        Assert.Null(json["skill_prompts"]);
        Assert.False(json["models"]![0]!.AsObject().ContainsKey("per_skill"));
    }

    [Fact]
    public void OneSkillGivesNoTableButStillItsJsonEntry()
    {
        // A single skill's table would repeat the overall means.
        var c = Comparison(["parity", "parity", "parity", "parity"]);
        Assert.DoesNotContain("per skill", c.FormatTables());
        Assert.Equal(2, c.ToJson()["skill_prompts"]!["parity"]!.GetValue<int>());
        Assert.Equal(0.0, c.ToJson()["models"]![0]!["per_skill"]!["parity"]!.GetValue<double>());
    }
}
