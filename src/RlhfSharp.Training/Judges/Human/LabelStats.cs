using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>One labeller's labels by kind, and their mean seconds per label.</summary>
public sealed record LabellerCounts(string Labeller, int Labels, int Preferences, int Ties, int BothBad, int Skips, double? SecondsPerLabel);

/// <summary>Agreement between two raters (two labellers, or a labeller and the judge).</summary>
public sealed record RaterAgreement(string X, string Y, AgreementResult Result);

/// <summary>What <c>rlhf label stats</c> reports.</summary>
/// <param name="Labels">Labels in the files.</param>
/// <param name="Pairs">Distinct pairs labelled.</param>
/// <param name="Labellers">Counts per labeller, by name.</param>
/// <param name="Pairwise">Agreement and kappa for every two labellers who share labelled pairs (skips left out).</param>
/// <param name="Overall">The pairwise counts pooled: agreement over all shared pairs.</param>
/// <param name="Judge">The judge file compared with, if any.</param>
/// <param name="WithJudge">Each labeller against the judge on the pairs both labelled; then everyone pooled (X = "all").</param>
public sealed record StatsReport(
    int Labels,
    int Pairs,
    IReadOnlyList<LabellerCounts> Labellers,
    IReadOnlyList<RaterAgreement> Pairwise,
    AgreementResult Overall,
    string? Judge,
    IReadOnlyList<RaterAgreement> WithJudge)
{
    /// <summary>The report as JSON (for <c>--json</c>).</summary>
    public JsonObject ToJson()
    {
        static JsonObject A(RaterAgreement r) => new()
        {
            ["x"] = r.X,
            ["y"] = r.Y,
            ["pairs"] = r.Result.Count,
            ["agreed"] = r.Result.Agreed,
            ["agreement"] = r.Result.Observed,
            ["chance_agreement"] = r.Result.Chance,
            ["kappa"] = r.Result.Kappa,
        };
        return new JsonObject
        {
            ["labels"] = Labels,
            ["pairs"] = Pairs,
            ["labellers"] = new JsonArray([.. Labellers.Select(l => (JsonNode)new JsonObject
            {
                ["labeller"] = l.Labeller,
                ["labels"] = l.Labels,
                ["preferences"] = l.Preferences,
                ["ties"] = l.Ties,
                ["both_bad"] = l.BothBad,
                ["skips"] = l.Skips,
                ["seconds_per_label"] = l.SecondsPerLabel,
            })]),
            ["pairwise"] = new JsonArray([.. Pairwise.Select(p => (JsonNode)A(p))]),
            ["overall"] = new JsonObject { ["pairs"] = Overall.Count, ["agreed"] = Overall.Agreed, ["agreement"] = Overall.Observed },
            ["judge_file"] = Judge,
            ["with_judge"] = new JsonArray([.. WithJudge.Select(p => (JsonNode)A(p))]),
        };
    }

    /// <summary>The report as the aligned text <c>rlhf label stats</c> prints.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"{Labels} labels on {Pairs} pairs by {Labellers.Count} labeller{(Labellers.Count == 1 ? "" : "s")}");
        sb.AppendLine();
        sb.AppendLine(c, $"{"labeller",-20} {"labels",7} {"prefs",7} {"ties",6} {"both_bad",9} {"skips",6} {"s/label",8}");
        foreach (var l in Labellers)
            sb.AppendLine(c, $"{l.Labeller,-20} {l.Labels,7} {l.Preferences,7} {l.Ties,6} {l.BothBad,9} {l.Skips,6} {Num(l.SecondsPerLabel, "F1"),8}");
        sb.AppendLine();
        if (Pairwise.Count == 0)
        {
            sb.AppendLine("agreement: no pair was labelled by two labellers (set overlap above 0 to measure it)");
        }
        else
        {
            sb.AppendLine("agreement between labellers (pairs both labelled, skips left out):");
            Table(sb, Pairwise);
            sb.AppendLine(c, $"overall agreement: {Pct(Overall.Observed)} over {Overall.Count} shared pairs (InstructGPT reports about 73 %)");
        }
        if (Judge is not null)
        {
            sb.AppendLine();
            sb.AppendLine(c, $"agreement with the judge in {Judge}:");
            Table(sb, WithJudge);
        }
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, IReadOnlyList<RaterAgreement> rows)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"  {"",-20} {"",-20} {"pairs",6} {"agreement",10} {"kappa",7}");
        foreach (var r in rows)
            sb.AppendLine(c, $"  {r.X,-20} {r.Y,-20} {r.Result.Count,6} {Pct(r.Result.Observed),10} {Num(r.Result.Kappa, "F3"),7}");
    }

    private static string Pct(double? v) => v is { } x ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) + " %" : "n/a";

    private static string Num(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}

/// <summary>Counts, agreement between labellers and agreement with an automatic judge, as pure functions of the labels.</summary>
public static class LabelStats
{
    public const string JudgeRater = "judge";

    public static StatsReport Compute(IReadOnlyList<LabelRecord> records, JudgeLabels? judge = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var names = records.Select(r => r.Labeller).Distinct().Order(StringComparer.Ordinal).ToList();
        var counts = names.Select(name =>
        {
            var mine = records.Where(r => r.Labeller == name).ToList();
            var seconds = mine.Select(r => r.Seconds).Where(s => s > 0).ToList();
            return new LabellerCounts(name, mine.Count,
                mine.Count(r => r.Choice is HumanChoice.Left or HumanChoice.Right),
                mine.Count(r => r.Choice == HumanChoice.Tie),
                mine.Count(r => r.Choice == HumanChoice.BothBad),
                mine.Count(r => r.Choice == HumanChoice.Skip),
                seconds.Count == 0 ? null : seconds.Average());
        }).ToList();

        // Judgements per labeller, by pair; a skip is no judgement.
        var byLabeller = names.ToDictionary(n => n, n => records.Where(r => r.Labeller == n && r.Judgement is not null)
            .ToDictionary(r => r.ItemId, r => r.Judgement!.Value));

        var pairwise = new List<RaterAgreement>();
        for (int i = 0; i < names.Count; i++)
        {
            for (int j = i + 1; j < names.Count; j++)
            {
                var shared = Shared(byLabeller[names[i]], byLabeller[names[j]]);
                if (shared.Count > 0)
                    pairwise.Add(new RaterAgreement(names[i], names[j], Agreement.Compute(shared)));
            }
        }

        var withJudge = new List<RaterAgreement>();
        if (judge is not null)
        {
            foreach (var name in names)
                withJudge.Add(new RaterAgreement(name, JudgeRater, Agreement.Compute(Shared(byLabeller[name], judge.Labels))));
            var everyone = names.SelectMany(n => Shared(byLabeller[n], judge.Labels)).ToList();
            withJudge.Add(new RaterAgreement("all", JudgeRater, Agreement.Compute(everyone)));
        }

        return new StatsReport(records.Count, records.Select(r => r.ItemId).Distinct().Count(), counts, pairwise,
            Agreement.Pool(pairwise.Select(p => p.Result)), judge?.Source, withJudge);
    }

    private static List<(Judgement, Judgement)> Shared(IReadOnlyDictionary<string, Judgement> x, IReadOnlyDictionary<string, Judgement> y) =>
        [.. x.Where(kv => y.ContainsKey(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Value, y[kv.Key]))];
}
