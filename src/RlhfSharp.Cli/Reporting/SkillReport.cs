using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// The results section's per-skill table, from results.json's <c>per_skill</c> objects: rows are the
/// held-out prompts' skills, columns the compared policies (SFT first). With a gold scorer each cell
/// is win rate vs SFT / gold score, with the share of ideal answers and the KL to SFT below, and is
/// coloured and marked ▲ (▼) where the policy's mean gold score on that skill is above (below) SFT's;
/// without one, KL to SFT and response words. With seeds a stage's column holds the mean over its
/// seeds. Results without skills give no section.
/// </summary>
internal static class SkillReport
{
    public static void Append(StringBuilder sb, JsonObject results)
    {
        var policies = (results["policies"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (policies.Count == 0 || policies[0]["per_skill"] is not JsonObject sft)
            return;
        var columns = new List<(string Name, JsonObject Skills)> { (Str(policies[0]["policy"]) ?? "sft", sft) };
        var spread = (results["over_seeds"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        bool seeds = spread.Count > 0;
        foreach (var row in seeds ? spread : policies.Skip(1))
            columns.Add((Str(row["policy"]) ?? "?", row["per_skill"] as JsonObject ?? []));
        bool gold = sft.Any(s => Num(s.Value?["eval/gold_score"]) is not null);

        sb.Append("<h3>Per skill</h3>\n<p>The same comparison split by the skill each held-out prompt asks");
        sb.Append(gold
            ? ": win rate vs SFT / mean gold score, then the share of ideal answers (the best gold score: correct, polite and concise) and the KL to SFT. ▲ and green: a higher mean gold score than SFT on that skill; ▼ and red: a lower one."
            : ": KL to SFT and response words (the data has no gold scorer).");
        if (seeds)
            sb.Append(" A policy stage's numbers are the mean over its seeds (each seed's value and the standard deviation are in results.json).");
        sb.Append("</p>\n<table class=\"results skills\"><thead><tr><th>skill</th><th>prompts</th>");
        foreach (var (name, _) in columns)
            sb.Append("<th>").Append(Html.Escape(name)).Append("</th>");
        sb.Append("</tr></thead><tbody>\n");
        foreach (var (skill, baseNode) in sft)
        {
            sb.Append("<tr><th scope=\"row\">").Append(Html.Escape(skill)).Append("</th><td>").Append(Html.Fixed(Num(baseNode?["prompts"]), 0)).Append("</td>");
            double? sftGold = Num(baseNode?["eval/gold_score"]);
            for (int c = 0; c < columns.Count; c++)
            {
                var cell = columns[c].Skills[skill];
                if (cell is null)
                {
                    sb.Append("<td>—</td>");
                    continue;
                }
                double? g = Num(cell["eval/gold_score"]);
                string mark = c == 0 || g is null || sftGold is null || g == sftGold ? "" : g > sftGold ? "better" : "worse";
                sb.Append(mark.Length > 0 ? $"<td class=\"{mark}\">" : "<td>");
                if (gold)
                {
                    sb.Append(Html.Fixed(Num(cell["eval/win_rate_vs_sft"]), 3)).Append(" / ").Append(Html.Fixed(g, 3));
                    sb.Append(mark switch { "better" => " ▲", "worse" => " ▼", _ => "" });
                    sb.Append("<div class=\"sub\">ideal ").Append(Html.Fixed(Num(cell["eval/ideal_fraction"]), 3))
                        .Append(" · KL ").Append(Html.Fixed(Num(cell["eval/kl_to_sft"]), 2)).Append("</div>");
                }
                else
                {
                    sb.Append("KL ").Append(Html.Fixed(Num(cell["eval/kl_to_sft"]), 2))
                        .Append("<div class=\"sub\">").Append(Html.Fixed(Num(cell["eval/response_words"]), 1)).Append(" words</div>");
                }
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table>\n");
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    // A number, or the mean of a spread over seeds ({"mean": …, "std": …, "values": […]}).
    private static double? Num(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonObject o => Num(o["mean"]),
        _ => null,
    };
}
