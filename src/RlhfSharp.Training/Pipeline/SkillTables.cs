using System.Globalization;
using System.Text;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// The per-skill results as Markdown for results.md: rows are skills, columns are policies, SFT first.
/// With a gold scorer, one table of win rate vs SFT / gold score, marked ▲ (▼) where the policy's mean
/// gold score on the skill is above (below) SFT's, and one of the share of ideal answers; without one,
/// one table of KL to SFT / response words. No skills, no text.
/// </summary>
public static class SkillTables
{
    /// <param name="columns">Each policy's rows, the SFT policy first (the baseline of the marks).</param>
    /// <param name="note">Words added to each table's title (e.g. which seeds a stage's numbers are the mean of), or null.</param>
    public static string Markdown(IReadOnlyList<(string Policy, IReadOnlyList<SkillRow> Rows)> columns, string? note = null)
    {
        if (columns.Count == 0 || columns[0].Rows.Count == 0)
            return "";
        var skills = columns[0].Rows.Select(r => r.Skill).ToList();
        bool gold = columns[0].Rows.Any(r => r.Gold is not null);
        string extra = note is null ? "" : $" ({note})";
        var sb = new StringBuilder();
        if (gold)
        {
            Table(sb, $"Per skill: win rate vs SFT / gold score, ▲ ▼ where the mean gold score is above or below SFT's on that skill{extra}:", columns, skills, prompts: true, (row, sft) =>
                $"{F(row.WinRateVsSft, "F3")} / {F(row.Gold, "F3")}{Mark(row, sft)}");
            Table(sb, $"Per skill: share of ideal answers (the best gold score: correct, polite and concise){extra}:", columns, skills, prompts: false, (row, _) =>
                F(row.IdealFraction, "F3"));
        }
        else
        {
            Table(sb, $"Per skill: KL to SFT / response words{extra}:", columns, skills, prompts: true, (row, _) =>
                $"{F(row.KlToSft, "F2")} / {F(row.ResponseWords, "F1")}");
        }
        return sb.ToString();
    }

    /// <summary>"▲" when the row's mean gold score is above SFT's on the same skill, "▼" below, else nothing.</summary>
    public static string Mark(SkillRow row, SkillRow? sft) =>
        row.Gold is not { } g || sft?.Gold is not { } s || ReferenceEquals(row, sft) ? "" : g > s ? " ▲" : g < s ? " ▼" : "";

    private static void Table(StringBuilder sb, string title, IReadOnlyList<(string Policy, IReadOnlyList<SkillRow> Rows)> columns, List<string> skills, bool prompts,
        Func<SkillRow, SkillRow?, string> cell)
    {
        sb.AppendLine().AppendLine(title).AppendLine();
        sb.Append("| skill |").Append(prompts ? " prompts |" : "");
        foreach (var (policy, _) in columns)
            sb.Append(' ').Append(Escape(policy)).Append(" |");
        sb.AppendLine();
        sb.Append('|').Append(string.Concat(Enumerable.Repeat("---|", columns.Count + (prompts ? 2 : 1)))).AppendLine();
        foreach (var skill in skills)
        {
            var sft = columns[0].Rows.First(r => r.Skill == skill);
            sb.Append("| ").Append(Escape(skill)).Append(" |");
            if (prompts)
                sb.Append(' ').Append(sft.Prompts.ToString(CultureInfo.InvariantCulture)).Append(" |");
            foreach (var (_, rows) in columns)
                sb.Append(' ').Append(rows.FirstOrDefault(r => r.Skill == skill) is { } row ? cell(row, sft) : "—").Append(" |");
            sb.AppendLine();
        }
    }

    private static string F(double? v, string format) => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "—";

    // A skill is the data's own text: a '|' or a line break would end the cell or the row.
    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
