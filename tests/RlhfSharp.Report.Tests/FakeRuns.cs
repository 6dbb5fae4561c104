using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RlhfSharp.Report.Tests;

/// <summary>
/// Run folders written by hand in the layout the trainers and the pipeline use (metrics.jsonl,
/// samples.jsonl, summary.json, results.json, responses.jsonl), so report tests need no training.
/// </summary>
internal static class FakeRuns
{
    /// <summary>A finished pipeline: sft, rm, ppo, dpo and grpo with their usual metric names, the results table and the compared responses.</summary>
    public static string Pipeline(string root)
    {
        Directory.CreateDirectory(root);
        var sft = new List<string> { Line(0, ("eval/loss", 3.0), ("eval/gold_score", 0.1)) };
        for (int s = 1; s <= 40; s++)
        {
            sft.Add(Line(s, ("train/loss", (3 * Math.Exp(-s / 10.0)) + 0.2), ("train/learning_rate", 0.002), ("train/grad_norm", 1 + (s % 3))));
            if (s % 10 == 0)
                sft.Add(Line(s, ("eval/loss", (3 * Math.Exp(-s / 10.0)) + 0.3), ("eval/gold_score", 0.2 + (s / 100.0)), ("eval/response_words", 8 - (s / 10.0))));
        }
        Stage(root, "sft", sft, finished: true, ["""{"step": 40, "time": 1.5, "tag": "samples", "text": "What is 7 + 5? => <b>12</b> & more  [gold 0.80]"}"""]);

        var rm = Enumerable.Range(1, 30).Select(s => Line(s, ("train/loss", 0.7 - (s / 100.0)), ("train/accuracy", 0.5 + (s / 100.0)), ("rewards/margins", s / 30.0))).ToList();
        rm.Add(Line(30, ("eval/loss", 0.5), ("eval/accuracy", 0.71)));
        Stage(root, "rm", rm, finished: true);

        var ppo = Enumerable.Range(1, 25).Select(s => Line(s,
            ("objective/scores", s / 10.0), ("objective/gold_score", 0.3 + (s / 100.0)), ("objective/kl", s / 5.0), ("objective/kl_coef", 0.05 * (1 + (s / 50.0))),
            ("policy/clipfrac", 0.1), ("objective/entropy", 2 - (s / 30.0)), ("rollout/response_length", 12 + (s % 3)),
            ("loss/policy", -0.01), ("loss/value", 0.2 / s), ("val/clipfrac", double.NaN))).ToList();
        Stage(root, "ppo", ppo, finished: true);

        var dpo = Enumerable.Range(1, 50).Select(s => Line(s, ("train/loss", 0.69 - (s / 200.0)), ("rewards/accuracies", 0.5 + (s / 200.0)),
            ("rewards/margins", s / 50.0), ("rewards/chosen", s / 100.0), ("rewards/rejected", -s / 100.0))).ToList();
        Stage(root, "dpo", dpo, finished: true);

        var grpo = Enumerable.Range(1, 20).Select(s => Line(s, ("reward", 0.3 + (s / 50.0)), ("kl", s / 200.0), ("clip_ratio", 0.02),
            ("entropy", 1.5), ("loss", 0.01), ("objective/gold_score", 0.3 + (s / 60.0)), ("completions/mean_length", 10))).ToList();
        Stage(root, "grpo", grpo, finished: true);

        var policies = new JsonArray();
        foreach (var (name, gold, win, kl) in new[] { ("sft", 0.5, (double?)null, 0.0), ("ppo", 0.61, 0.64, 2.3), ("dpo", 0.55, 0.58, 1.2), ("grpo", 0.7, 0.75, 0.9) })
        {
            policies.Add(new JsonObject
            {
                ["policy"] = name,
                ["eval/gold_score"] = gold,
                ["eval/win_rate_vs_sft"] = win,
                ["eval/kl_to_sft"] = kl,
                ["eval/response_words"] = 7.5,
                ["time/total_s"] = 60.0,
            });
        }
        var results = new JsonObject
        {
            ["stage"] = "pipeline",
            ["data"] = "/data/builtin",
            ["gold_scorer"] = true,
            ["policies"] = policies,
            ["rm/eval_accuracy"] = 0.71,
            ["time/stages_s"] = new JsonObject { ["sft"] = 60.0, ["rm"] = 30.0, ["ppo"] = 120.0, ["dpo"] = 45.0, ["grpo"] = 90.0 },
        };
        File.WriteAllText(Path.Combine(root, "results.json"), results.ToJsonString(new() { WriteIndented = true }));

        var responses = new StringBuilder();
        for (int i = 0; i < 3; i++)
        {
            var answers = new JsonObject
            {
                ["sft"] = new JsonObject { ["text"] = $"It is {i + 5}. <script>alert('x')</script>", ["gold"] = 0.5 },
                ["ppo"] = new JsonObject { ["text"] = $"{i + 5}", ["gold"] = 0.9 },
                ["dpo"] = new JsonObject { ["text"] = "Sure!\n<img src=\"http://example.com/x.png\">", ["gold"] = 0.2 },
                ["grpo"] = new JsonObject { ["text"] = "x & y", ["gold"] = 0.0 },
            };
            responses.Append(new JsonObject { ["prompt"] = $"What is {i} + 5?", ["responses"] = answers }.ToJsonString()).Append('\n');
        }
        File.WriteAllText(Path.Combine(root, "responses.jsonl"), responses.ToString());
        return root;
    }

    /// <summary>One stage's run folder with <paramref name="lines"/> as its metrics.jsonl.</summary>
    public static string Stage(string root, string name, IEnumerable<string> lines, bool finished, IEnumerable<string>? samples = null)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Concat(lines.Select(l => l + "\n")));
        File.WriteAllText(Path.Combine(dir, "samples.jsonl"), string.Concat((samples ?? []).Select(l => l + "\n")));
        if (finished)
            File.WriteAllText(Path.Combine(dir, "summary.json"), $$"""{"stage": "{{name}}", "steps": 10, "time/total_s": 12.5, "model": "/runs/{{name}}/model"}""");
        return dir;
    }

    /// <summary>A metrics.jsonl line as the JSONL sink writes it (non-finite values as strings).</summary>
    public static string Line(long step, params (string Name, double Value)[] metrics)
    {
        var o = new JsonObject { ["step"] = step, ["time"] = 1763755515.5 + step };
        foreach (var (name, value) in metrics)
        {
            o[name] = double.IsFinite(value)
                ? JsonValue.Create(value)
                : JsonValue.Create(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
        return o.ToJsonString();
    }

}
