using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// The rounds of iterated RLHF (<c>rounds</c>) in results.md: for each ppo run, one row a round with the
/// reward model's accuracy on that round's labelled answers of the policy before and after it trained on
/// them, and the policy's held-out gold score, win rate and KL to SFT at the end of the round.
/// </summary>
public static class RoundsTable
{
    /// <summary>A table for each policy entry of results.json that has a "rounds" array; empty text for none.</summary>
    public static string Markdown(JsonArray policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var sb = new StringBuilder();
        foreach (var policy in policies.OfType<JsonObject>())
        {
            if (policy["rounds"] is not JsonArray rounds)
                continue;
            sb.AppendLine();
            sb.AppendLine($"Rounds of {policy["policy"]?.GetValue<string>()} (reward model accuracy on the round's labelled answers of the policy, before and after training on them; the policy's held-out evaluation at the end of the round):");
            sb.AppendLine();
            sb.AppendLine("| round | RM accuracy before | RM accuracy after | gold score | win rate vs SFT | KL to SFT |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var r in rounds.OfType<JsonObject>())
                sb.AppendLine($"| {r["round"]} | {F(r["rm/accuracy_on_policy_before"], "F3")} | {F(r["rm/accuracy_on_policy_after"], "F3")} | {F(r["eval/gold_score"], "F3")} | {F(r["eval/win_rate_vs_sft"], "F3")} | {F(r["eval/kl_to_sft"], "F2")} |");
        }
        return sb.ToString();
    }

    /// <summary>A number of results.json with <paramref name="format"/>, or "—" where it is absent.</summary>
    public static string F(JsonNode? value, string format) =>
        value is JsonValue v && v.TryGetValue<double>(out var x) ? x.ToString(format, CultureInfo.InvariantCulture) : "—";
}
