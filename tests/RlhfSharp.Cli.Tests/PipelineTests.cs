using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf pipeline</c> end to end at a small fraction of the example configs' steps.</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryStageRunsAndEveryPolicyIsComparedWithSft()
    {
        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("pipeline", "--out", run, "--steps_scale", "0.02", "--eval_prompts", "12");
        Assert.True(code == 0, err);
        foreach (var stage in new[] { "data", "sft", "label", "rm", "ppo", "dpo", "grpo" })
            Assert.True(Directory.Exists(Path.Combine(run, stage)), $"no {stage} folder");
        foreach (var stage in new[] { "sft", "label", "rm", "ppo", "dpo", "grpo" })
            Assert.True(File.Exists(Path.Combine(run, stage, "summary.json")), $"{stage} did not finish");

        // The label stage answered a steps_scale share (2 %) of the 6000 train prompts twice with the SFT
        // policy, labelled the pairs with the task's noisy labeller, and the reward model trained on them too.
        var label = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "label", "summary.json")))!.AsObject();
        Assert.Equal(120, label["prompts"]!.GetValue<int>());
        Assert.Equal(0.75, label["judge_noise_tau"]!.GetValue<double>());
        Assert.Equal(120, label["pairs"]!.GetValue<int>() + label["judge_ties"]!.GetValue<int>() + label["identical_responses"]!.GetValue<int>() + label["empty_responses"]!.GetValue<int>());
        var labelled = Path.Combine(run, "label", "prefs_train.jsonl");
        Assert.Equal(label["pairs"]!.GetValue<int>(), File.ReadAllLines(labelled).Length);
        var rmConfig = File.ReadAllText(Path.Combine(run, "rm", "config.resolved.yaml"));
        Assert.Contains($"extra_train_files: [\"{labelled}\"]", rmConfig);
        Assert.Contains($"ties_files: [\"{Path.Combine(run, "label", "ties.jsonl")}\"]", rmConfig);
        var rmSummary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "rm", "summary.json")))!;
        Assert.Equal(label["judge_ties"]!.GetValue<int>(), rmSummary["data/train_ties"]!.GetValue<int>());
        // DPO trains on the same labelled pairs of the SFT policy's answers beside the data's pairs.
        Assert.Contains($"extra_train_files: [\"{labelled}\"]", File.ReadAllText(Path.Combine(run, "dpo", "config.resolved.yaml")));

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        var rows = results["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft", "ppo", "dpo", "grpo"], rows.Select(r => r["policy"]!.GetValue<string>()));
        Assert.Equal(0.0, rows[0]["eval/kl_to_sft"]!.GetValue<double>());
        Assert.Null(rows[0]["eval/win_rate_vs_sft"]);
        foreach (var r in rows.Skip(1))
        {
            Assert.InRange(r["eval/win_rate_vs_sft"]!.GetValue<double>(), 0, 1);
            Assert.False(double.IsNaN(r["eval/gold_score"]!.GetValue<double>()));
        }
        Assert.InRange(results["rm/eval_accuracy"]!.GetValue<double>(), 0, 1);
        // Each policy's numbers per skill of the held-out prompts: the task's skills of the 12 prompts compared,
        // whose prompt-weighted means are the whole comparison's.
        var heldOut = File.ReadLines(Path.Combine(run, "data", "prompts_eval.jsonl")).Take(12)
            .Select(l => TaskPrompts.Parse(JsonNode.Parse(l)!["prompt"]!.GetValue<string>()).Skill.ToString().ToLowerInvariant()).ToList();
        foreach (var r in rows)
        {
            var perSkill = r["per_skill"]!.AsObject();
            Assert.Equal(heldOut.Distinct().Order(StringComparer.Ordinal), perSkill.Select(p => p.Key));
            Assert.Equal(heldOut.GroupBy(k => k).Select(g => g.Count()).Order(), perSkill.Select(p => p.Value!["prompts"]!.GetValue<int>()).Order());
            Assert.Equal(r["eval/gold_score"]!.GetValue<double>(), perSkill.Sum(p => p.Value!["prompts"]!.GetValue<int>() * p.Value!["eval/gold_score"]!.GetValue<double>()) / 12, 9);
            Assert.Equal(r["eval/kl_to_sft"]!.GetValue<double>(), perSkill.Sum(p => p.Value!["prompts"]!.GetValue<int>() * p.Value!["eval/kl_to_sft"]!.GetValue<double>()) / 12, 6);
            Assert.All(perSkill, p => Assert.InRange(p.Value!["eval/ideal_fraction"]!.GetValue<double>(), 0, 1));
        }
        Assert.Null(rows[0]["per_skill"]!.AsObject().First().Value!["eval/win_rate_vs_sft"]);
        Assert.Contains("Per skill: win rate vs SFT / gold score", output);
        Assert.Contains("<h3>Per skill</h3>", File.ReadAllText(Path.Combine(run, "report.html")));
        // The table is printed and kept beside the results.
        Assert.Contains("| policy | gold score | win rate vs SFT |", output);
        Assert.Equal(File.ReadAllText(Path.Combine(run, "results.md")).Trim(), output[output.IndexOf("| policy", StringComparison.Ordinal)..output.IndexOf("run folder:", StringComparison.Ordinal)].Trim());

        // The console named each stage with its place in the job, a bar, the ETA and key metrics.
        Assert.Contains("[sft 1/7] ", output);
        Assert.Contains("[label 2/7] done in", output);
        Assert.Matches(@"\[ppo 4/7\] #+\.* \d+/\d+ ETA \d+:\d\d .*objective/kl ", output);
        Assert.Contains("[compare 7/7] done in", output);

        // Every policy's answer to each held-out prompt, side by side, with its gold score.
        var responses = File.ReadAllLines(Path.Combine(run, "responses.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        // 12 prompts answered 8 times (eval_samples), round by round.
        Assert.Equal(96, responses.Count);
        Assert.Equal(Enumerable.Range(0, 96).Select(i => i / 12), responses.Select(r => r["sample"]!.GetValue<int>()));
        Assert.Equal(responses.Take(12).Select(r => r["prompt"]!.GetValue<string>()), responses.Skip(84).Select(r => r["prompt"]!.GetValue<string>()));
        foreach (var line in responses)
        {
            Assert.False(string.IsNullOrEmpty(line["prompt"]!.GetValue<string>()));
            var answers = line["responses"]!.AsObject();
            Assert.Equal(["sft", "ppo", "dpo", "grpo"], answers.Select(a => a.Key));
            Assert.All(answers, a => Assert.NotNull(a.Value!["gold"]));
        }

        // report.html is written at the end, and `rlhf report` makes the same bytes from the files.
        Assert.Contains($"report: {Path.Combine(run, "report.html")}", output);
        var again1 = Path.Combine(_dir, "again.html");
        Assert.Equal(0, Run("report", run, "--out", again1).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "report.html")), File.ReadAllBytes(again1));

        // rlhf eval on the same models, prompts and seed gives the pipeline's numbers.
        var evalJson = Path.Combine(_dir, "eval.json");
        var models = string.Join(',', rows.Select(r => Path.Combine(run, r["policy"]!.GetValue<string>(), "model")));
        var eval = Run("eval", "--models", models, "--data", Path.Combine(run, "data"), "--eval_prompts", "12", "--out", evalJson);
        Assert.True(eval.Code == 0, eval.Err);
        var evaluated = JsonNode.Parse(File.ReadAllText(evalJson))!.AsObject();
        var matrix = evaluated["win_rate"]!.AsArray();
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i]["eval/gold_score"]!.GetValue<double>(), evaluated["models"]![i]!["mean_score"]!.GetValue<double>(), 12);
            if (i > 0)
                Assert.Equal(rows[i]["eval/win_rate_vs_sft"]!.GetValue<double>(), matrix[i]![0]!.GetValue<double>(), 12);
        }

        // Run again: the finished stages are kept, and the comparison comes out the same.
        var again = Run("pipeline", "--out", run, "--steps_scale", "0.02", "--eval_prompts", "12");
        Assert.Equal(0, again.Code);
        Assert.Contains("[grpo] already done", again.Out);
        Assert.Equal(File.ReadAllText(Path.Combine(run, "results.json")), File.ReadAllText(Path.Combine(run, "results.json")));
        Assert.Equal(results["policies"]!.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!["policies"]!.ToJsonString());
    }

    [Fact]
    public void AUsersModelAndDataWithoutAGoldScorerRunWithTheGoldColumnsEmpty()
    {
        // A data folder in the trainers' JSONL formats that is not the built-in task (no gold scorer) ...
        var data = Path.Combine(_dir, "data");
        Assert.Equal(0, Run("data", "builtin", "--out", data, "--train_prompts", "200", "--eval_prompts", "6", "--preference_pairs", "200", "--vocab_size", "300").Code);
        File.Delete(Path.Combine(data, BuiltinTaskGenerator.StatsFileName));
        Assert.Null(GoldScorer.TryCreate(data));
        // Held-out prompts that name no skill.
        var heldOut = Path.Combine(data, BuiltinTaskGenerator.PromptsEvalFileName);
        File.WriteAllLines(heldOut, File.ReadAllLines(heldOut).Select(l =>
        {
            var o = JsonNode.Parse(l)!.AsObject();
            Assert.True(o.Remove("skill"));
            return o.ToJsonString();
        }));
        // ... and a small HF checkpoint of the user's.
        var user = Path.Combine(_dir, "user");
        var made = Run("sft", "--data", data, "--out", user, "--max_steps", "1", "--warmup_steps", "0", "--eval_prompts", "0",
            "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2", "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64");
        Assert.True(made.Code == 0, made.Err);

        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("pipeline", "--out", run, "--model", Path.Combine(user, "model"), "--data", data, "--steps_scale", "0.01", "--eval_prompts", "4");
        Assert.True(code == 0, err);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        Assert.False(results["gold_scorer"]!.GetValue<bool>());
        // Nothing can label the SFT policy's answers without a gold scorer: the reward model trains on the data's pairs alone.
        Assert.Contains("[label] skipped: the data has no gold scorer", output);
        Assert.False(File.Exists(Path.Combine(run, "label", "summary.json")));
        // DPO too trains on the data's pairs alone (examples/dpo.yaml's label pairs are not there to read).
        Assert.Contains("extra_train_files: []", File.ReadAllText(Path.Combine(run, "dpo", "config.resolved.yaml")));
        var rows = results["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft", "ppo", "dpo", "grpo"], rows.Select(r => r["policy"]!.GetValue<string>()));
        // One round (the default) is one ppo run: the results keep their keys, with no rounds.
        Assert.Equal(["stage", "data", "gold_scorer", "policies", "rm/eval_accuracy", "time/stages_s"], results.Select(k => k.Key));
        Assert.All(rows, r => Assert.Equal(["policy", "eval/gold_score", "eval/win_rate_vs_sft", "eval/kl_to_sft", "eval/response_words", "time/total_s"], r.Select(k => k.Key)));
        Assert.False(Directory.Exists(Path.Combine(run, "ppo-round1")));
        foreach (var r in rows)
        {
            Assert.Null(r["eval/gold_score"]);
            Assert.Null(r["eval/win_rate_vs_sft"]);
            Assert.True(double.IsFinite(r["eval/kl_to_sft"]!.GetValue<double>()));
        }
        Assert.Contains("| ppo | — | — |", output);
        // Prompts without a skill field: no per-skill numbers anywhere.
        Assert.All(rows, r => Assert.Null(r["per_skill"]));
        Assert.DoesNotContain("skill", File.ReadAllText(Path.Combine(run, "results.md")), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Per skill", File.ReadAllText(Path.Combine(run, "report.html")));
        Assert.All(File.ReadAllLines(Path.Combine(run, "responses.jsonl")), l => Assert.DoesNotContain("\"gold\"", l));
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("The data has no gold scorer", report);
        Assert.Contains("<tr><th scope=\"row\">ppo</th><td>—</td><td>—</td>", report);
    }

    // A small built-in task (200 train prompts, 6 held out) and a one-step tiny model trained on it (user/model).
    private (string Data, string User) SmallDataAndModel()
    {
        var data = Path.Combine(_dir, "data");
        Assert.Equal(0, Run("data", "builtin", "--out", data, "--train_prompts", "200", "--eval_prompts", "6", "--preference_pairs", "200", "--vocab_size", "300").Code);
        var user = Path.Combine(_dir, "user");
        var made = Run("sft", "--data", data, "--out", user, "--max_steps", "1", "--warmup_steps", "0", "--eval_prompts", "0",
            "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2", "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64");
        Assert.True(made.Code == 0, made.Err);
        return (data, user);
    }

    [Fact]
    public void WithSeedsEveryPolicyStageRunsOncePerSeedAndTheSpreadIsReported()
    {
        var (data, user) = SmallDataAndModel();

        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("pipeline", "--out", run, "--model", Path.Combine(user, "model"), "--data", data, "--steps_scale", "0.01", "--eval_prompts", "6",
            "--set", "stages=[dpo, grpo]", "--set", "seeds=[3, 5]");
        Assert.True(code == 0, err);
        foreach (var (stage, seed) in new[] { ("dpo", 3), ("dpo", 5), ("grpo", 3), ("grpo", 5) })
            Assert.Contains($"seed: {seed}", File.ReadAllText(Path.Combine(run, $"{stage}-seed{seed}", "config.resolved.yaml")));
        Assert.Contains("[grpo-seed5 4/5]", output);

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        var rows = results["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft", "dpo-seed3", "dpo-seed5", "grpo-seed3", "grpo-seed5"], rows.Select(r => r["policy"]!.GetValue<string>()));
        Assert.Equal(["dpo", "dpo", "grpo", "grpo"], rows.Skip(1).Select(r => r["stage"]!.GetValue<string>()));
        Assert.Equal([3, 5, 3, 5], rows.Skip(1).Select(r => r["seed"]!.GetValue<int>()));

        // Each stage's spread is the mean and sample std of its two seeds' rows.
        var spread = results["over_seeds"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["dpo", "grpo"], spread.Select(s => s["policy"]!.GetValue<string>()));
        for (int k = 0; k < 2; k++)
        {
            foreach (var key in new[] { "eval/win_rate_vs_sft", "eval/kl_to_sft", "eval/gold_score" })
            {
                double a = rows[1 + (2 * k)][key]!.GetValue<double>(), b = rows[2 + (2 * k)][key]!.GetValue<double>();
                var stat = spread[k][key]!.AsObject();
                Assert.Equal([a, b], stat["values"]!.AsArray().Select(v => v!.GetValue<double>()));
                Assert.Equal((a + b) / 2, stat["mean"]!.GetValue<double>(), 12);
                Assert.Equal(Math.Abs(a - b) / Math.Sqrt(2), stat["std"]!.GetValue<double>(), 12);
            }
        }
        Assert.Contains("Over seeds 3, 5 (mean ± std, then each seed's value):", output);
        // Per skill: each seed's numbers in its row, the spread in over_seeds, the means in results.md.
        Assert.All(rows, r => Assert.NotEmpty(r["per_skill"]!.AsObject()));
        foreach (var (skill, stat) in spread[0]["per_skill"]!.AsObject())
        {
            var seedValues = rows.Skip(1).Take(2).Select(r => r["per_skill"]![skill]!["eval/gold_score"]!.GetValue<double>());
            Assert.Equal(seedValues, stat!["eval/gold_score"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        }
        Assert.Contains("(policy stages: mean over seeds 3, 5;", output);
        Assert.Contains("Over seeds", File.ReadAllText(Path.Combine(run, "report.html")));
        Assert.Contains("<th>win rate vs SFT</th>", File.ReadAllText(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void WithSeedSftEachSeedRunsTheWholeChainAndEveryStageHasASpread()
    {
        var (data, user) = SmallDataAndModel();

        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("pipeline", "--out", run, "--model", Path.Combine(user, "model"), "--data", data, "--steps_scale", "0.01", "--eval_prompts", "6",
            "--set", "stages=[sft, rm, dpo]", "--set", "seeds=[3, 5]", "--set", "seed_sft=true");
        Assert.True(code == 0, err);
        // Each seed's chain is a pipeline folder of its own: its SFT, reward model and DPO made with its seed, and its own comparison and report.
        var perSeed = new Dictionary<int, List<JsonObject>>();
        foreach (int seed in new[] { 3, 5 })
        {
            var chain = Path.Combine(run, $"seed{seed}");
            foreach (var stage in new[] { "sft", "rm", "dpo" })
                Assert.Contains($"seed: {seed}", File.ReadAllText(Path.Combine(chain, stage, "config.resolved.yaml")));
            Assert.True(File.Exists(Path.Combine(chain, "report.html")), $"no report in seed{seed}");
            var own = JsonNode.Parse(File.ReadAllText(Path.Combine(chain, "results.json")))!["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
            Assert.Equal(["sft", "dpo"], own.Select(r => r["policy"]!.GetValue<string>()));
            perSeed[seed] = own;
        }
        Assert.False(Directory.Exists(Path.Combine(run, "sft")), "a shared SFT was trained beside the seeds' own");
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(run, "seed3", "sft", "model", "model.safetensors")), File.ReadAllBytes(Path.Combine(run, "seed5", "sft", "model", "model.safetensors")));

        // The top-level results: every seed's rows as its chain compared them (DPO against that seed's SFT), and every stage's spread, SFT's included.
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!.AsObject();
        Assert.True(results["seed_sft"]!.GetValue<bool>());
        var rows = results["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft-seed3", "dpo-seed3", "sft-seed5", "dpo-seed5"], rows.Select(r => r["policy"]!.GetValue<string>()));
        Assert.Equal(["sft", "dpo", "sft", "dpo"], rows.Select(r => r["stage"]!.GetValue<string>()));
        Assert.Equal([3, 3, 5, 5], rows.Select(r => r["seed"]!.GetValue<int>()));
        foreach (var (seed, k) in new[] { (3, 0), (5, 2) })
        {
            foreach (var key in new[] { "eval/gold_score", "eval/kl_to_sft" })
            {
                Assert.Equal(perSeed[seed][0][key]!.GetValue<double>(), rows[k][key]!.GetValue<double>());
                Assert.Equal(perSeed[seed][1][key]!.GetValue<double>(), rows[k + 1][key]!.GetValue<double>());
            }
            Assert.Equal(perSeed[seed][1]["eval/win_rate_vs_sft"]!.GetValue<double>(), rows[k + 1]["eval/win_rate_vs_sft"]!.GetValue<double>());
        }
        var spread = results["over_seeds"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft", "dpo"], spread.Select(s => s["policy"]!.GetValue<string>()));
        double g3 = rows[0]["eval/gold_score"]!.GetValue<double>(), g5 = rows[2]["eval/gold_score"]!.GetValue<double>();
        Assert.Equal([g3, g5], spread[0]["eval/gold_score"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal((g3 + g5) / 2, spread[0]["eval/gold_score"]!["mean"]!.GetValue<double>(), 12);
        Assert.Null(spread[0]["eval/win_rate_vs_sft"]);
        double w3 = rows[1]["eval/win_rate_vs_sft"]!.GetValue<double>(), w5 = rows[3]["eval/win_rate_vs_sft"]!.GetValue<double>();
        Assert.Equal(Math.Abs(w3 - w5) / Math.Sqrt(2), spread[1]["eval/win_rate_vs_sft"]!["std"]!.GetValue<double>(), 12);
        var rmValues = results["rm/eval_accuracy_over_seeds"]!["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToList();
        Assert.Equal(2, rmValues.Count);
        Assert.Equal(rmValues.Average(), results["rm/eval_accuracy"]!.GetValue<double>(), 12);
        Assert.Contains("Over seeds 3, 5 (mean ± std, then each seed's value):", output);
        Assert.Contains("Each seed ran the whole chain (sft, rm, dpo)", File.ReadAllText(Path.Combine(run, "results.md")));
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("with the whole chain before it", report);
        // The top-level report also has every chain's stages, seed by seed.
        Assert.True(report.IndexOf("id=\"stage-seed3-sft\"", StringComparison.Ordinal) is > 0 and var at3
            && report.IndexOf("id=\"stage-seed5-dpo\"", StringComparison.Ordinal) > at3, "the chains' stages are not in the top-level report");

        // seed_sft needs seeds and the sft stage.
        var bad = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "seed_sft=true");
        Assert.Equal(2, bad.Code);
        Assert.Contains("seed_sft: true runs the whole chain once per seed, but seeds is empty", bad.Err);
        bad = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--model", Path.Combine(user, "model"), "--set", "stages=[dpo]", "--set", "seeds=[1, 2]", "--set", "seed_sft=true");
        Assert.Equal(2, bad.Code);
        Assert.Contains("seed_sft: true trains SFT once per seed, but stages ([dpo]) has no sft", bad.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "seed1")));
    }

    [Fact]
    public void StagesThatCannotRunAreRejectedBeforeAnyWork()
    {
        var (code, _, err) = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "stages=[sft, ppo]");
        Assert.Equal(2, code);
        Assert.Contains("ppo needs the rm stage", err);
        var label = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "stages=[sft, label, dpo]");
        Assert.Equal(2, label.Code);
        Assert.Contains("label writes pairs for the reward model: it needs the rm stage", label.Err);
        var unknown = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "stages=[sft, dpo, dpo, rlhf9000]");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("stages: 'rlhf9000' is not a stage; stages are sft, label, rm, ppo, dpo, grpo", unknown.Err);
        Assert.Contains("stages: a stage is listed twice", unknown.Err);
        var seeds = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "seeds=[1, 2, 1]");
        Assert.Equal(2, seeds.Code);
        Assert.Contains("seeds: a seed is listed twice ([1, 2, 1])", seeds.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "sft")));
    }
}
