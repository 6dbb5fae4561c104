using System.Text.Json.Nodes;
using RlhfSharp.Cli.Reporting;

namespace RlhfSharp.Report.Tests;

/// <summary>The results section's per-skill table, from hand-written results.json files.</summary>
public sealed class SkillReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("report-skills-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Skill(double? gold, double? win, double? ideal, double kl) => new()
    {
        ["prompts"] = 4,
        ["eval/gold_score"] = gold,
        ["eval/win_rate_vs_sft"] = win,
        ["eval/ideal_fraction"] = ideal,
        ["eval/kl_to_sft"] = kl,
        ["eval/response_words"] = 3.5,
    };

    // The fake pipeline's results.json with per_skill objects added by policy name.
    private string Pipeline(Dictionary<string, JsonObject> perSkill, Action<JsonObject>? edit = null)
    {
        var dir = FakeRuns.Pipeline(Path.Combine(_dir, "pipe"));
        var path = Path.Combine(dir, "results.json");
        var results = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var row in results["policies"]!.AsArray().OfType<JsonObject>())
        {
            if (perSkill.TryGetValue(row["policy"]!.GetValue<string>(), out var skills))
                row["per_skill"] = skills;
        }
        edit?.Invoke(results);
        File.WriteAllText(path, results.ToJsonString());
        return dir;
    }

    private static string Render(string dir) => ReportPage.Render(RunData.Load(dir), new ReportOptions());

    [Fact]
    public void EachSkillIsARowAndEachCellIsMarkedBetterOrWorseThanSft()
    {
        var html = Render(Pipeline(new()
        {
            ["sft"] = new() { ["arithmetic"] = Skill(0.2, null, 0.3, 0), ["sorting"] = Skill(-0.4, null, 0.1, 0) },
            ["ppo"] = new() { ["arithmetic"] = Skill(0.5, 0.7, 0.6, 1.25), ["sorting"] = Skill(-0.9, 0.3, 0.05, 2) },
            ["dpo"] = new() { ["arithmetic"] = Skill(0.2, 0.5, 0.3, 0.5), ["sorting"] = Skill(-0.1, 0.6, 0.2, 0.5) },
            ["grpo"] = new() { ["arithmetic"] = Skill(0.25, 0.55, 0.35, 0.75) }, // no sorting answers: a dash
        }));
        Assert.Contains("<h3>Per skill</h3>", html);
        Assert.Contains("<table class=\"results skills\"><thead><tr><th>skill</th><th>prompts</th><th>sft</th><th>ppo</th><th>dpo</th><th>grpo</th></tr></thead>", html);
        Assert.Contains("<tr><th scope=\"row\">arithmetic</th><td>4</td><td>— / 0.200<div class=\"sub\">ideal 0.300 · KL 0.00</div></td>"
            + "<td class=\"better\">0.700 / 0.500 ▲<div class=\"sub\">ideal 0.600 · KL 1.25</div></td>"
            + "<td>0.500 / 0.200<div class=\"sub\">ideal 0.300 · KL 0.50</div></td>"
            + "<td class=\"better\">0.550 / 0.250 ▲<div class=\"sub\">ideal 0.350 · KL 0.75</div></td></tr>", html);
        Assert.Contains("<tr><th scope=\"row\">sorting</th><td>4</td><td>— / -0.400<div class=\"sub\">ideal 0.100 · KL 0.00</div></td>"
            + "<td class=\"worse\">0.300 / -0.900 ▼<div class=\"sub\">ideal 0.050 · KL 2.00</div></td>"
            + "<td class=\"better\">0.600 / -0.100 ▲<div class=\"sub\">ideal 0.200 · KL 0.50</div></td><td>—</td></tr>", html);
        Assert.DoesNotContain("mean over its seeds", html);
    }

    [Fact]
    public void ResultsWithoutSkillsHaveNoPerSkillTable()
    {
        var html = Render(Pipeline([]));
        Assert.Contains("<table class=\"results\">", html);
        Assert.DoesNotContain("Per skill", html);
        Assert.DoesNotContain("class=\"results skills\"", html);
    }

    [Fact]
    public void WithoutAGoldScorerTheCellsHoldKlAndWords()
    {
        var html = Render(Pipeline(new()
        {
            ["sft"] = new() { ["chat <b>"] = Skill(null, null, null, 0) },
            ["ppo"] = new() { ["chat <b>"] = Skill(null, null, null, 1.5) },
        }));
        Assert.Contains("(the data has no gold scorer)", html);
        Assert.Contains("<tr><th scope=\"row\">chat &lt;b&gt;</th><td>4</td><td>KL 0.00<div class=\"sub\">3.5 words</div></td><td>KL 1.50<div class=\"sub\">3.5 words</div></td>", html);
        Assert.DoesNotContain("class=\"better\"", html);
    }

    [Fact]
    public void WithSeedsAStagesColumnIsTheMeanOverItsSeeds()
    {
        static JsonObject Stat(double mean) => new() { ["mean"] = mean, ["std"] = 0.1, ["values"] = new JsonArray(mean - 0.1, mean + 0.1) };
        var html = Render(Pipeline(new() { ["sft"] = new() { ["parity"] = Skill(0.1, null, 0.2, 0) } }, results =>
            results["over_seeds"] = new JsonArray(new JsonObject
            {
                ["policy"] = "ppo",
                ["seeds"] = new JsonArray(1, 2),
                ["per_skill"] = new JsonObject
                {
                    ["parity"] = new JsonObject
                    {
                        ["prompts"] = 4,
                        ["eval/gold_score"] = Stat(-0.2),
                        ["eval/win_rate_vs_sft"] = Stat(0.4),
                        ["eval/ideal_fraction"] = Stat(0.15),
                        ["eval/kl_to_sft"] = Stat(1.1),
                        ["eval/response_words"] = Stat(3),
                    },
                },
            })));
        Assert.Contains("mean over its seeds", html);
        Assert.Contains("<th>skill</th><th>prompts</th><th>sft</th><th>ppo</th></tr>", html);
        Assert.Contains("<td class=\"worse\">0.400 / -0.200 ▼<div class=\"sub\">ideal 0.150 · KL 1.10</div></td></tr>", html);
    }
}
