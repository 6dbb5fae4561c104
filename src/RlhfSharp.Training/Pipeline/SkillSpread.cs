using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// One skill's numbers for a policy stage over the pipeline's seeds (mean, sample std and each
/// seed's value, as <see cref="SeedSpread"/> gives for the whole comparison).
/// </summary>
public sealed record SkillSpread(string Skill, int Prompts, SeedStat? Gold, SeedStat? WinRateVsSft, SeedStat? IdealFraction, SeedStat KlToSft, SeedStat ResponseWords)
{
    /// <summary>The spread of each skill from each seed's rows of one stage (every seed's run answered the same prompts).</summary>
    public static List<SkillSpread> Of(IReadOnlyList<IReadOnlyList<SkillRow>> seedRows)
    {
        if (seedRows.Count == 0 || seedRows.Any(r => r.Count == 0))
            return [];
        var spread = new List<SkillSpread>();
        foreach (var skill in seedRows[0].Select(r => r.Skill))
        {
            var mine = seedRows.Select(rows => rows.FirstOrDefault(r => r.Skill == skill)
                ?? throw new InvalidOperationException($"a seed's comparison has no answers of skill {skill}")).ToList();
            SeedStat? Opt(Func<SkillRow, double?> f) => mine.All(r => f(r) is not null) ? SeedStat.Of([.. mine.Select(r => f(r)!.Value)]) : null;
            spread.Add(new SkillSpread(skill, mine[0].Prompts, Opt(r => r.Gold), Opt(r => r.WinRateVsSft), Opt(r => r.IdealFraction),
                SeedStat.Of([.. mine.Select(r => r.KlToSft)]), SeedStat.Of([.. mine.Select(r => r.ResponseWords)])));
        }
        return spread;
    }

    /// <summary>The seeds' means as one row (what the per-skill tables show for a stage run with several seeds).</summary>
    public SkillRow Mean => new(Skill, Prompts, Gold?.Mean, WinRateVsSft?.Mean, IdealFraction?.Mean, KlToSft.Mean, ResponseWords.Mean);

    public JsonObject ToJson() => new()
    {
        ["prompts"] = Prompts,
        ["eval/gold_score"] = Gold?.ToJson(),
        ["eval/win_rate_vs_sft"] = WinRateVsSft?.ToJson(),
        ["eval/ideal_fraction"] = IdealFraction?.ToJson(),
        ["eval/kl_to_sft"] = KlToSft.ToJson(),
        ["eval/response_words"] = ResponseWords.ToJson(),
    };
}
