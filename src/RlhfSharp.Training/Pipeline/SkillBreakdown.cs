using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Evaluation;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// One policy's numbers on the held-out prompts of one skill in the pipeline's comparison. Gold
/// score, win rate and the share of ideal answers need the gold scorer (null without it); the win
/// rate is null for the SFT policy itself.
/// </summary>
/// <param name="Prompts">Held-out prompts of the skill (each answered eval_samples times).</param>
/// <param name="Gold">Mean gold score of the skill's answers.</param>
/// <param name="WinRateVsSft">Share of the skill's answers scoring above SFT's answer to the same prompt and sample, ties counting half.</param>
/// <param name="IdealFraction">Share of answers with the best possible gold score (<see cref="GoldScorer.IsIdeal"/>).</param>
/// <param name="KlToSft">Sampled KL to the SFT policy, Σ_t log π − log π_sft per answer, averaged over the skill's answers.</param>
/// <param name="ResponseWords">Whitespace-separated words per answer, averaged.</param>
public sealed record SkillRow(string Skill, int Prompts, double? Gold, double? WinRateVsSft, double? IdealFraction, double KlToSft, double ResponseWords)
{
    public JsonObject ToJson() => new()
    {
        ["prompts"] = Prompts,
        ["eval/gold_score"] = Gold,
        ["eval/win_rate_vs_sft"] = WinRateVsSft,
        ["eval/ideal_fraction"] = IdealFraction,
        ["eval/kl_to_sft"] = KlToSft,
        ["eval/response_words"] = ResponseWords,
    };

    /// <summary>The rows as results.json's <c>per_skill</c> object: skill → numbers.</summary>
    public static JsonObject ToJson(IEnumerable<SkillRow> rows)
    {
        var o = new JsonObject();
        foreach (var r in rows)
            o[r.Skill] = r.ToJson();
        return o;
    }
}

/// <summary>Splits one policy's answers in the final comparison by the skill of their prompts.</summary>
public static class SkillBreakdown
{
    /// <summary>
    /// One row per skill, skills in ordinal order. Every list holds one entry per answer, in the
    /// comparison's order (the held-out prompts repeated in <paramref name="rounds"/> rounds).
    /// </summary>
    /// <param name="skills">The skill of each answer's prompt.</param>
    /// <param name="rounds">Answers per prompt (eval_samples): a skill's prompts are its answers / rounds.</param>
    /// <param name="gold">Each answer's gold score; null without a gold scorer.</param>
    /// <param name="sftGold">SFT's gold score for the same prompt and sample; null for the SFT policy or without a gold scorer.</param>
    /// <param name="kl">Each answer's Σ_t log π − log π_sft (0 for the SFT policy).</param>
    /// <param name="responses">Each answer's text.</param>
    public static List<SkillRow> Of(IReadOnlyList<string> skills, int rounds, IReadOnlyList<double>? gold, IReadOnlyList<double>? sftGold,
        IReadOnlyList<double> kl, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(skills);
        int n = skills.Count;
        if (kl.Count != n || responses.Count != n || (gold is not null && gold.Count != n) || (sftGold is not null && sftGold.Count != n))
            throw new ArgumentException($"every per-answer list needs {n} entries (one per skill), got kl {kl.Count}, responses {responses.Count}, gold {gold?.Count}, sft gold {sftGold?.Count}");
        if (rounds < 1 || n % rounds != 0)
            throw new ArgumentException($"{n} answers are not {rounds} rounds of the same prompts", nameof(rounds));
        var rows = new List<SkillRow>();
        foreach (var (skill, idx) in HeldOutSkills.Groups(skills))
        {
            double[]? g = gold is null ? null : [.. idx.Select(i => gold[i])];
            double[]? s = sftGold is null ? null : [.. idx.Select(i => sftGold[i])];
            rows.Add(new SkillRow(skill, idx.Count / rounds,
                g?.Average(),
                g is not null && s is not null ? PolicyEvaluator.WinRate(g, s) : null,
                g is null ? null : g.Count(GoldScorer.IsIdeal) / (double)g.Length,
                idx.Average(i => kl[i]),
                PolicyComparison.MeanWords(idx.Select(i => responses[i]))));
        }
        return rows;
    }
}
