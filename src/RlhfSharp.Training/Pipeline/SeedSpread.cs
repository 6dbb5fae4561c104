using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Pipeline;

/// <summary>One measure of a stage over its seeds: the mean, the sample standard deviation (n − 1; NaN for one seed) and each seed's value.</summary>
public sealed record SeedStat(double Mean, double Std, IReadOnlyList<double> Values)
{
    public static SeedStat Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            throw new ArgumentException("a spread needs at least one value", nameof(values));
        double mean = values.Average();
        double std = values.Count < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new SeedStat(mean, std, values);
    }

    /// <summary>"0.662 ± 0.021 (0.640, 0.662, 0.683)".</summary>
    public string Format(string format)
    {
        string F(double v) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
        return $"{F(Mean)} ± {F(Std)} ({string.Join(", ", Values.Select(F))})";
    }

    public JsonObject ToJson() => new()
    {
        ["mean"] = Mean,
        ["std"] = double.IsFinite(Std) ? Std : null,
        ["values"] = new JsonArray([.. Values.Select(v => (JsonNode)JsonValue.Create(v))]),
    };
}

/// <summary>
/// A policy stage's results over the pipeline's seeds (<c>seeds</c>): every seed's run answered the
/// same held-out prompts as SFT, so the spread is the seeds' effect alone. Gold score and win rate are
/// absent without a gold scorer.
/// </summary>
public sealed record SeedSpread(string Stage, IReadOnlyList<int> Seeds, SeedStat? Gold, SeedStat? WinRateVsSft, SeedStat KlToSft, SeedStat ResponseWords)
{
    /// <summary>The same per skill of the held-out prompts; empty when they have no skills.</summary>
    public IReadOnlyList<SkillSpread> Skills { get; init; } = [];

    /// <summary>The spread of each stage in <paramref name="stages"/>, from the comparison's rows named by <paramref name="runName"/>(stage, seed).</summary>
    public static List<SeedSpread> Of(IReadOnlyList<PolicyRow> rows, IEnumerable<string> stages, IReadOnlyList<int> seeds, Func<string, int, string> runName)
    {
        var spread = new List<SeedSpread>();
        foreach (var stage in stages)
        {
            var mine = seeds.Select(seed => rows.FirstOrDefault(r => r.Name == runName(stage, seed))
                ?? throw new InvalidOperationException($"no comparison row for {runName(stage, seed)}")).ToList();
            SeedStat? Opt(Func<PolicyRow, double?> f) => mine.All(r => f(r) is not null) ? SeedStat.Of([.. mine.Select(r => f(r)!.Value)]) : null;
            spread.Add(new SeedSpread(stage, seeds, Opt(r => r.Gold), Opt(r => r.WinRateVsSft),
                SeedStat.Of([.. mine.Select(r => r.KlToSft)]), SeedStat.Of([.. mine.Select(r => r.ResponseWords)]))
            { Skills = SkillSpread.Of([.. mine.Select(r => r.Skills)]) });
        }
        return spread;
    }

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["policy"] = Stage,
            ["seeds"] = new JsonArray([.. Seeds.Select(s => (JsonNode)JsonValue.Create(s))]),
            ["eval/gold_score"] = Gold?.ToJson(),
            ["eval/win_rate_vs_sft"] = WinRateVsSft?.ToJson(),
            ["eval/kl_to_sft"] = KlToSft.ToJson(),
            ["eval/response_words"] = ResponseWords.ToJson(),
        };
        if (Skills.Count > 0)
        {
            var perSkill = new JsonObject();
            foreach (var s in Skills)
                perSkill[s.Skill] = s.ToJson();
            o["per_skill"] = perSkill;
        }
        return o;
    }

    /// <summary>The spreads as a Markdown table (empty text for none).</summary>
    public static string Table(IReadOnlyList<SeedSpread> spread)
    {
        if (spread.Count == 0)
            return "";
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine($"Over seeds {string.Join(", ", spread[0].Seeds)} (mean ± std, then each seed's value):");
        sb.AppendLine();
        sb.AppendLine("| policy | gold score | win rate vs SFT | KL to SFT | response words |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var s in spread)
            sb.AppendLine($"| {s.Stage} | {s.Gold?.Format("F3") ?? "—"} | {s.WinRateVsSft?.Format("F3") ?? "—"} | {s.KlToSft.Format("F2")} | {s.ResponseWords.Format("F1")} |");
        return sb.ToString();
    }
}
