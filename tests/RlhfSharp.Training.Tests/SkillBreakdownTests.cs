using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Pipeline;

namespace RlhfSharp.Training.Tests;

/// <summary>The pipeline comparison's per-skill numbers, worked out by hand.</summary>
public sealed class SkillBreakdownTests
{
    // Three held-out prompts (P0 arithmetic, P1 sorting, P2 arithmetic) answered in two rounds:
    // answers P0 P1 P2 P0 P1 P2.
    private static readonly string[] Skills = ["arithmetic", "sorting", "arithmetic", "arithmetic", "sorting", "arithmetic"];
    private static readonly double[] Gold = [1, -1, 0.95, 1, 1, -1];
    private static readonly double[] SftGold = [1, -1, 1, 0.9, -1, -1];
    private static readonly double[] Kl = [0.5, 2, 1.5, 0, 4, 1];
    private static readonly string[] Texts = ["12.", "1 2 3.", "The answer is 12.", "12.", "wrong", "no idea at all"];

    [Fact]
    public void EachSkillHasItsGoldWinRateIdealShareKlAndWords()
    {
        var rows = SkillBreakdown.Of(Skills, 2, Gold, SftGold, Kl, Texts);
        Assert.Equal(["arithmetic", "sorting"], rows.Select(r => r.Skill));

        // arithmetic: answers 0, 2, 3, 5. Policy 1, 0.95, 1, −1 against SFT 1, 1, 0.9, −1:
        // tie ½, loss 0, win 1, tie ½ → 2 / 4. Gold (1 + 0.95 + 1 − 1) / 4 = 0.4875; ideal (gold 1) 2 of 4;
        // KL (0.5 + 1.5 + 0 + 1) / 4 = 0.75; words (1 + 4 + 1 + 4) / 4 = 2.5; 4 answers / 2 rounds = 2 prompts.
        var a = rows[0];
        Assert.Equal(2, a.Prompts);
        Assert.Equal(0.5, a.WinRateVsSft!.Value, 12);
        Assert.Equal(0.4875, a.Gold!.Value, 12);
        Assert.Equal(0.5, a.IdealFraction!.Value, 12);
        Assert.Equal(0.75, a.KlToSft, 12);
        Assert.Equal(2.5, a.ResponseWords, 12);

        // sorting: answers 1, 4. Policy −1, 1 against SFT −1, −1: tie ½, win 1 → 0.75. Gold 0; ideal 1 of 2;
        // KL (2 + 4) / 2 = 3; words (3 + 1) / 2 = 2; one prompt.
        var s = rows[1];
        Assert.Equal(1, s.Prompts);
        Assert.Equal(0.75, s.WinRateVsSft!.Value, 12);
        Assert.Equal(0.0, s.Gold!.Value, 12);
        Assert.Equal(0.5, s.IdealFraction!.Value, 12);
        Assert.Equal(3.0, s.KlToSft, 12);
        Assert.Equal(2.0, s.ResponseWords, 12);

        // The skills' answer-weighted means are the whole comparison's: (0.4875 · 4 + 0 · 2) / 6 = mean gold.
        Assert.Equal(Gold.Average(), ((a.Gold.Value * 4) + (s.Gold.Value * 2)) / 6, 12);
    }

    [Fact]
    public void TheSftPolicyHasNoWinRateAndDataWithoutAGoldScorerOnlyKlAndWords()
    {
        var sft = SkillBreakdown.Of(Skills, 2, SftGold, null, new double[6], Texts);
        Assert.All(sft, r => Assert.Null(r.WinRateVsSft));
        Assert.Equal((1 + 1 + 0.9 - 1) / 4.0, sft[0].Gold!.Value, 12);
        Assert.Equal(0.5, sft[0].IdealFraction!.Value, 12); // answers 0 and 2 score the best 1; 0.9 and −1 are not ideal

        var noGold = SkillBreakdown.Of(Skills, 2, null, null, Kl, Texts);
        Assert.All(noGold, r =>
        {
            Assert.Null(r.Gold);
            Assert.Null(r.WinRateVsSft);
            Assert.Null(r.IdealFraction);
        });
        Assert.Equal(0.75, noGold[0].KlToSft, 12);
        var json = SkillRow.ToJson(noGold);
        Assert.Equal(["arithmetic", "sorting"], json.Select(p => p.Key));
        Assert.Equal(1, json["sorting"]!["prompts"]!.GetValue<int>());
        Assert.Null(json["sorting"]!["eval/gold_score"]);
    }

    [Fact]
    public void AnIdealAnswerHasTheBestGoldScore()
    {
        var scorer = GoldScorer.Default;
        Assert.True(GoldScorer.IsIdeal(scorer.Score("What is 7 + 5?", "12.")));
        Assert.True(GoldScorer.IsIdeal(scorer.Score("What is 7 + 5?", "The answer is 12.")));
        Assert.False(GoldScorer.IsIdeal(scorer.Score("What is 7 + 5?", "The answer is clearly 12.")));  // one word too many
        Assert.False(GoldScorer.IsIdeal(scorer.Score("What is 7 + 5?", "11.")));
    }

    [Fact]
    public void ListsOfDifferentLengthsOrRoundsThatDoNotDivideAreRefused()
    {
        Assert.Throws<ArgumentException>(() => SkillBreakdown.Of(Skills, 2, Gold, SftGold, Kl.Take(5).ToArray(), Texts));
        Assert.Throws<ArgumentException>(() => SkillBreakdown.Of(Skills, 2, Gold.Take(5).ToArray(), SftGold, Kl, Texts));
        Assert.Throws<ArgumentException>(() => SkillBreakdown.Of(Skills, 4, Gold, SftGold, Kl, Texts));
    }

    [Fact]
    public void OverSeedsEachSkillHasItsMeanAndSpread()
    {
        SkillRow Row(string skill, double gold, double win) => new(skill, 3, gold, win, 0.5, 1, 2);
        var spread = SkillSpread.Of([[Row("arithmetic", 0.2, 0.6), Row("sorting", -1, 0.3)], [Row("arithmetic", 0.4, 0.8), Row("sorting", -0.5, 0.5)]]);
        Assert.Equal(["arithmetic", "sorting"], spread.Select(s => s.Skill));
        Assert.Equal(0.3, spread[0].Gold!.Mean, 12);
        Assert.Equal(Math.Sqrt(0.02), spread[0].Gold!.Std, 12); // (0.1² + 0.1²) / 1
        Assert.Equal(0.4, spread[1].WinRateVsSft!.Mean, 12);
        Assert.Equal(new SkillRow("sorting", 3, -0.75, 0.4, 0.5, 1, 2), spread[1].Mean);

        // The stage's spread carries them into results.json's over_seeds entry.
        var rows = new[]
        {
            new PolicyRow("sft", 0, null, 0, 2, null),
            new PolicyRow("ppo-seed1", 0.1, 0.5, 1, 2, null) { Skills = [Row("arithmetic", 0.2, 0.6)] },
            new PolicyRow("ppo-seed2", 0.1, 0.5, 1, 2, null) { Skills = [Row("arithmetic", 0.4, 0.8)] },
        };
        var json = SeedSpread.Of(rows, ["ppo"], [1, 2], (stage, seed) => $"{stage}-seed{seed}")[0].ToJson();
        Assert.Equal([0.6, 0.8], json["per_skill"]!["arithmetic"]!["eval/win_rate_vs_sft"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Null(SeedSpread.Of([new PolicyRow("dpo-seed1", 0, 0.5, 1, 2, null)], ["dpo"], [1], (stage, seed) => $"{stage}-seed{seed}")[0].ToJson()["per_skill"]);
    }
}
