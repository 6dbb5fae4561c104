using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;

namespace RlhfSharp.Cli.Reporting;

/// <summary>What goes into a report page besides the run's files.</summary>
public sealed record ReportOptions
{
    /// <summary>Held-out prompts shown with every policy's response (0 = none).</summary>
    public int Samples { get; init; } = 12;

    /// <summary>
    /// The dashboard's page: adds a status line and a small script that asks the server for the
    /// current body every <see cref="RefreshMs"/> milliseconds. The file report never has a script.
    /// </summary>
    public bool Live { get; init; }

    public int RefreshMs { get; init; } = 1000;

    /// <summary>The body version the live page starts from.</summary>
    public long Version { get; init; }
}

/// <summary>
/// The report of a run folder as one self-contained HTML page: inline CSS and SVG, no script, no
/// request for anything else, readable in any browser. It holds the pipeline's results table, each
/// stage's training curves (<see cref="ChartCatalog"/>), summary and latest text log, and the
/// compared policies' responses to the same held-out prompts side by side. The page depends only on
/// the run's files, so regenerating it gives the same bytes.
/// </summary>
public static class ReportPage
{
    public const string FileName = "report.html";

    /// <summary>Reads <paramref name="runDir"/> and writes its report atomically; returns the path written.</summary>
    /// <param name="outPath">The HTML file to write; default <c>RUN_DIR/report.html</c>.</param>
    public static string Write(string runDir, string? outPath = null, ReportOptions? options = null)
    {
        var run = RunData.Load(runDir);
        var path = Path.GetFullPath(outPath ?? Path.Combine(runDir, FileName));
        AtomicFile.WriteAllText(path, Render(run, options ?? new ReportOptions()));
        return path;
    }

    public static string Render(RunData run, ReportOptions options)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>RLHF report: ").Append(Html.Escape(run.Name)).Append("</title>\n");
        sb.Append("<link rel=\"icon\" href=\"data:,\">\n"); // no favicon request
        sb.Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n<header>\n");
        sb.Append("<h1>RLHF report: ").Append(Html.Escape(run.Name)).Append("</h1>\n");
        if (options.Live)
            sb.Append("<p id=\"live-status\" class=\"live\">live: the charts follow the run's metrics files</p>\n");
        sb.Append("<nav>").Append(Nav(run, options)).Append("</nav>\n</header>\n");
        sb.Append("<main id=\"report\">\n").Append(RenderBody(run, options)).Append("</main>\n");
        if (options.Live)
            sb.Append("<script>\n").Append(LiveScript.Replace("__VERSION__", options.Version.ToString(CultureInfo.InvariantCulture)).Replace("__REFRESH__", options.RefreshMs.ToString(CultureInfo.InvariantCulture))).Append("</script>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>The inside of <c>&lt;main id="report"&gt;</c>: what the dashboard replaces when the files change.</summary>
    public static string RenderBody(RunData run, ReportOptions options)
    {
        var sb = new StringBuilder();
        sb.Append("<p class=\"meta\">");
        if (run.IsPipeline)
            sb.Append("Pipeline run with ").Append(run.Stages.Count == 0 ? "no stage logged yet" : "stages " + string.Join(", ", run.Stages.Select(s => Html.Escape(s.Name)))).Append('.');
        else
            sb.Append("Run folder of one stage.");
        sb.Append("</p>\n");
        if (run.Results is { } results)
            Results(sb, results);
        else if (run.IsPipeline)
            sb.Append("<section id=\"results\"><h2>Results</h2><p>The policies have not been compared yet (results.json is written at the end of the pipeline).</p></section>\n");
        foreach (var stage in run.Stages)
            Stage(sb, stage);
        if (options.Samples > 0 && run.Responses.Count > 0)
            Samples(sb, run.Responses, options.Samples);
        return sb.ToString();
    }

    private static string Nav(RunData run, ReportOptions options)
    {
        var links = new List<string>();
        if (run.IsPipeline)
            links.Add("<a href=\"#results\">results</a>");
        foreach (var s in run.Stages)
            links.Add($"<a href=\"#stage-{Html.Id(s.Name)}\">{Html.Escape(s.Name)}</a>");
        if (options.Samples > 0 && run.Responses.Count > 0)
            links.Add("<a href=\"#samples\">responses</a>");
        return string.Join(" · ", links);
    }

    private static void Results(StringBuilder sb, JsonObject results)
    {
        sb.Append("<section id=\"results\"><h2>Results</h2>\n");
        sb.Append("<p>Every policy answers the same held-out prompts (sampled from one seed); the gold scorer judges, and each is compared with the SFT policy.</p>\n");
        sb.Append("<table class=\"results\"><thead><tr><th>policy</th><th>gold score</th><th>win rate vs SFT</th><th>KL to SFT</th><th>response words</th><th>train time (s)</th></tr></thead><tbody>\n");
        foreach (var row in (results["policies"] as JsonArray ?? []).OfType<JsonObject>())
            NumberRow(sb, Str(row["policy"]) ?? "?", row, ("eval/gold_score", 3), ("eval/win_rate_vs_sft", 3), ("eval/kl_to_sft", 2), ("eval/response_words", 1), ("time/total_s", 0));
        sb.Append("</tbody></table>\n");
        if (results["over_seeds"] is JsonArray spread && spread.Count > 0)
            OverSeeds(sb, spread, results["seed_sft"] is JsonValue w && w.TryGetValue<bool>(out var whole) && whole);
        SkillReport.Append(sb, results);
        foreach (var row in (results["policies"] as JsonArray ?? []).OfType<JsonObject>())
            if (row["rounds"] is JsonArray rounds)
                Rounds(sb, Str(row["policy"]) ?? "?", rounds);
        sb.Append("<ul class=\"facts\">");
        sb.Append("<li>Reward model held-out accuracy: ").Append(Html.Fixed(Num(results["rm/eval_accuracy"]), 3)).Append("</li>");
        if (results["time/stages_s"] is JsonObject times)
            sb.Append("<li>Stage times (s): ").Append(string.Join(", ", times.Select(t => $"{Html.Escape(t.Key)} {Html.Fixed(Num(t.Value), 0)}"))).Append("</li>");
        if (results["gold_scorer"] is JsonValue g && g.TryGetValue<bool>(out var hasGold) && !hasGold)
            sb.Append("<li>The data has no gold scorer: gold scores and win rates are not available (—).</li>");
        sb.Append("</ul></section>\n");
    }

    // Each policy stage's mean ± std over the pipeline's seeds, with every seed's value beside it
    // (with seed_sft, every stage's: each seed ran the whole chain).
    private static void OverSeeds(StringBuilder sb, JsonArray spread, bool wholeChains)
    {
        static string Cell(JsonNode? stat, int digits)
        {
            if (stat is not JsonObject o)
                return "—";
            var values = (o["values"] as JsonArray ?? []).Select(v => Html.Fixed(Num(v), digits));
            return $"{Html.Fixed(Num(o["mean"]), digits)} ± {Html.Fixed(Num(o["std"]), digits)} <span class=\"seeds\">({string.Join(", ", values)})</span>";
        }
        var seeds = (spread[0]!["seeds"] as JsonArray ?? []).Select(v => v?.ToJsonString());
        sb.Append("<h3>Over seeds</h3>\n<p>Each policy stage ran once per seed (").Append(Html.Escape(string.Join(", ", seeds)))
            .Append(wholeChains
                ? ") with the whole chain before it, SFT, labels and reward model included (folders seed&lt;N&gt;, each with its own report), each seed's policies compared with its own SFT"
                : ") from the same SFT model and reward model")
            .Append(": mean ± standard deviation, then each seed's value.</p>\n");
        sb.Append("<table class=\"results\"><thead><tr><th>policy</th><th>gold score</th><th>win rate vs SFT</th><th>KL to SFT</th><th>response words</th></tr></thead><tbody>\n");
        foreach (var row in spread.OfType<JsonObject>())
        {
            sb.Append("<tr><th scope=\"row\">").Append(Html.Escape(Str(row["policy"]) ?? "?")).Append("</th>");
            sb.Append("<td>").Append(Cell(row["eval/gold_score"], 3)).Append("</td>");
            sb.Append("<td>").Append(Cell(row["eval/win_rate_vs_sft"], 3)).Append("</td>");
            sb.Append("<td>").Append(Cell(row["eval/kl_to_sft"], 2)).Append("</td>");
            sb.Append("<td>").Append(Cell(row["eval/response_words"], 1)).Append("</td></tr>\n");
        }
        sb.Append("</tbody></table>\n");
    }

    // Iterated RLHF: each round's reward-model accuracy on the policy's own labelled answers, and the policy at the round's end.
    private static void Rounds(StringBuilder sb, string policy, JsonArray rounds)
    {
        sb.Append("<h3>Rounds of ").Append(Html.Escape(policy)).Append("</h3>\n<p>Each round trained PPO, had the labeller compare pairs of the policy's own answers, ")
            .Append("and (before the next round) continued the reward model on them. RM accuracy on those pairs before training on them measures how far the policy could exploit it.</p>\n");
        sb.Append("<table class=\"results\"><thead><tr><th>round</th><th>RM accuracy before</th><th>RM accuracy after</th><th>gold score</th><th>win rate vs SFT</th><th>KL to SFT</th></tr></thead><tbody>\n");
        foreach (var r in rounds.OfType<JsonObject>())
            NumberRow(sb, r["round"]?.ToJsonString() ?? "?", r, ("rm/accuracy_on_policy_before", 3), ("rm/accuracy_on_policy_after", 3), ("eval/gold_score", 3), ("eval/win_rate_vs_sft", 3), ("eval/kl_to_sft", 2));
        sb.Append("</tbody></table>\n");
    }

    // A results row: the row's name, then each key of the object as a number with its decimals.
    private static void NumberRow(StringBuilder sb, string name, JsonObject row, params (string Key, int Decimals)[] cells)
    {
        sb.Append("<tr><th scope=\"row\">").Append(Html.Escape(name)).Append("</th>");
        foreach (var (key, decimals) in cells)
            sb.Append("<td>").Append(Html.Fixed(Num(row[key]), decimals)).Append("</td>");
        sb.Append("</tr>\n");
    }

    private static void Stage(StringBuilder sb, StageRun stage)
    {
        string id = Html.Id(stage.Name);
        var (charts, other) = ChartCatalog.For(stage.Metrics);
        sb.Append("<section class=\"stage\" id=\"stage-").Append(id).Append("\"><h2>").Append(Html.Escape(stage.Name)).Append("</h2>\n");
        sb.Append("<p class=\"meta\">").Append(Html.Int(stage.Metrics.Records)).Append(" records up to step ").Append(Html.Int(stage.Metrics.LastStep))
            .Append(stage.Summary is null ? "; no summary.json yet (running, stopped, or not a finished run)" : "; finished").Append(".</p>\n");
        OverOptimisationChart.AppendAlarm(sb, stage, id);
        sb.Append("<div class=\"charts\">\n");
        OverOptimisationChart.AppendCurve(sb, stage, id);
        foreach (var chart in charts)
        {
            var main = chart.Main.Select(m => stage.Metrics.TryGet(m, out var s) ? s : null).OfType<MetricSeries>().ToList();
            var lower = chart.Lower.Select(m => stage.Metrics.TryGet(m, out var s) ? s : null).OfType<MetricSeries>().ToList();
            if (main.Count == 0 && lower.Count > 0)
                (main, lower) = (lower, []);
            Figure(sb, $"chart-{id}-{chart.Id}", chart.Title, main, lower);
        }
        if (charts.Count == 0 && other.Count == 0)
            sb.Append("<p>No metrics logged yet.</p>\n");
        sb.Append("</div>\n");
        if (other.Count > 0)
        {
            sb.Append("<details id=\"other-").Append(id).Append("\"><summary>Other metrics (").Append(Html.Int(other.Count)).Append(")</summary><div class=\"charts\">\n");
            foreach (var s in other)
                Figure(sb, $"chart-{id}-m-{Html.Id(s.Name)}", s.Name, [s], []);
            sb.Append("</div></details>\n");
        }
        if (stage.Summary is { } summary)
        {
            sb.Append("<details id=\"summary-").Append(id).Append("\"><summary>summary.json</summary><table class=\"kv\"><tbody>\n");
            foreach (var (key, value) in summary)
                sb.Append("<tr><th scope=\"row\">").Append(Html.Escape(key)).Append("</th><td>").Append(Html.Escape(SummaryValue(value))).Append("</td></tr>\n");
            sb.Append("</tbody></table></details>\n");
        }
        if (stage.TextLog.Count > 0)
        {
            long last = stage.TextLog.Max(e => e.Step);
            var entries = stage.TextLog.Where(e => e.Step == last).Take(20).ToList();
            sb.Append("<details id=\"log-").Append(id).Append("\"><summary>Text log at step ").Append(Html.Int(last)).Append(" (").Append(Html.Int(entries.Count)).Append(")</summary><table class=\"log\"><tbody>\n");
            foreach (var e in entries)
                sb.Append("<tr><th scope=\"row\">").Append(Html.Escape(e.Tag)).Append("</th><td class=\"text\">").Append(Html.Escape(e.Text)).Append("</td></tr>\n");
            sb.Append("</tbody></table></details>\n");
        }
        sb.Append("</section>\n");
    }

    private static void Figure(StringBuilder sb, string id, string title, List<MetricSeries> main, List<MetricSeries> lower)
    {
        sb.Append("<figure id=\"").Append(id).Append("\"><figcaption>").Append(Html.Escape(title)).Append("</figcaption>");
        sb.Append(SvgChart.Render(title, main, lower)).Append("</figure>\n");
    }

    private static void Samples(StringBuilder sb, IReadOnlyList<PromptResponses> responses, int limit)
    {
        var policies = responses[0].Responses.Select(r => r.Policy).ToList();
        sb.Append("<section id=\"samples\"><h2>Responses to the same held-out prompts</h2>\n");
        // responses.jsonl holds the prompts in sample rounds (the pipeline's eval_samples): count distinct prompts.
        int distinct = responses.Select(r => r.Prompt).Distinct(StringComparer.Ordinal).Count();
        int rounds = responses.Count / Math.Max(1, distinct);
        sb.Append("<p>The first ").Append(Html.Int(Math.Min(limit, distinct))).Append(" of ").Append(Html.Int(distinct))
            .Append(" held-out prompts, answered by each policy in the comparison")
            .Append(rounds > 1 ? " (the first of " + Html.Int(rounds) + " sampled answers to each)" : "").Append(responses[0].Responses.Any(r => r.Gold is not null) ? ", with the gold score of each answer" : "").Append(".</p>\n");
        sb.Append("<table class=\"samples\"><thead><tr><th>prompt</th>");
        foreach (var p in policies)
            sb.Append("<th>").Append(Html.Escape(p)).Append("</th>");
        sb.Append("</tr></thead><tbody>\n");
        foreach (var row in responses.Take(Math.Min(limit, distinct)))
        {
            sb.Append("<tr><td class=\"text\">").Append(Html.Escape(row.Prompt)).Append("</td>");
            foreach (var p in policies)
            {
                var r = row.Responses.FirstOrDefault(x => x.Policy == p);
                sb.Append("<td><div class=\"text\">").Append(r is null ? "—" : Html.Escape(r.Text)).Append("</div>");
                if (r?.Gold is { } gold)
                    sb.Append("<div class=\"gold\">gold ").Append(Html.Fixed(gold, 2)).Append("</div>");
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table></section>\n");
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? Num(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static string SummaryValue(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<double>(out var d) => Html.Value(d),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => value.ToJsonString(),
    };

    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px; padding: 0 16px 32px; color: #1d1d1f; background: #fafafa; }
        h1 { font-size: 1.5rem; margin: 20px 0 6px; }
        h2 { font-size: 1.2rem; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        nav a { margin-right: 4px; }
        .meta, .live { color: #555; font-size: 0.9rem; }
        .live { color: #0a6b2a; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 8px; }
        figcaption { font-weight: 600; font-size: 0.9rem; margin-bottom: 4px; }
        svg.chart { max-width: 100%; height: auto; display: block; font: 12px system-ui, sans-serif; }
        svg.chart .grid { stroke: #eee; }
        svg.chart .tick, svg.chart .axis-label { fill: #555; font-size: 11px; }
        svg.chart .empty { fill: #999; }
        table { border-collapse: collapse; background: #fff; }
        th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 0.9rem; }
        table.results td { text-align: right; font-variant-numeric: tabular-nums; }
        table.samples { table-layout: fixed; width: 100%; }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; }
        .gold { color: #555; font-size: 0.8rem; margin-top: 4px; }
        table.skills td.better { background: #e6f4ea; }
        table.skills td.worse { background: #fdecea; }
        table.skills .sub { color: #555; font-size: 0.8rem; }
        .alarm { background: #fdecea; border: 1px solid #d55e00; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
        .peak { font-size: 0.85rem; color: #333; margin: 4px 0 0; max-width: 600px; }
        details { margin: 8px 0; }
        summary { cursor: pointer; color: #333; }

        """;

    // The dashboard's page only: asks for the current body and swaps it in when the version changes,
    // keeping open <details> open. Errors go to the status line, not the console.
    private const string LiveScript = """
        (function () {
          var version = __VERSION__;
          var status = document.getElementById('live-status');
          function show(text) { if (status) status.textContent = text; }
          function apply(data) {
            var main = document.getElementById('report');
            var open = Array.prototype.map.call(document.querySelectorAll('details[open][id]'), function (d) { return d.id; });
            main.innerHTML = data.body;
            open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
            version = data.version;
          }
          function poll() {
            fetch('api/report?since=' + version, { cache: 'no-store' })
              .then(function (r) { return r.json(); })
              .then(function (data) {
                if (data.error) { show('live: ' + data.error); return; }
                if (data.version !== version && typeof data.body === 'string') apply(data);
                show('live: up to date with version ' + version);
              })
              .catch(function () { show('live: the dashboard server does not answer; retrying'); })
              .then(function () { setTimeout(poll, __REFRESH__); });
          }
          setTimeout(poll, __REFRESH__);
        })();

        """;
}
