using System.Text.Json.Nodes;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf pipeline</c> with <c>rounds</c>: PPO, labelling of its answers and reward-model retraining, round after round.</summary>
public sealed class PipelineRoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-rounds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Json(params string[] path) => JsonNode.Parse(File.ReadAllText(Path.Combine(path)))!.AsObject();

    private static string Key(string yamlFile, string key) =>
        File.ReadAllLines(yamlFile).Single(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim().Trim('"');

    [Fact]
    public void TwoRoundsRetrainTheRewardModelOnThePolicysAnswersAndContinueThePolicy()
    {
        // A small built-in task and an SFT model trained just enough to write answers the gold labeller tells apart.
        var data = Path.Combine(_dir, "data");
        Assert.Equal(0, Run("data", "builtin", "--out", data, "--train_prompts", "800", "--eval_prompts", "6", "--preference_pairs", "200", "--vocab_size", "300").Code);
        var sft = Path.Combine(_dir, "sft");
        var made = Run("sft", "--data", data, "--out", sft, "--max_steps", "40", "--learning_rate", "0.01", "--warmup_steps", "0", "--eval_prompts", "0",
            "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2", "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64");
        Assert.True(made.Code == 0, made.Err);
        var sftModel = Path.Combine(sft, "model");

        var run = Path.Combine(_dir, "run");
        string[] args = ["pipeline", "--out", run, "--model", sftModel, "--data", data, "--steps_scale", "0.05", "--eval_prompts", "6", "--eval_samples", "2", "--set", "stages=[rm, ppo]", "--set", "rounds=2"];
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        foreach (var folder in new[] { "rm", "ppo-round1", "label-round1", "rm-round1", "ppo-round2", "label-round2" })
            Assert.True(File.Exists(Path.Combine(run, folder, "summary.json")), $"{folder} did not finish");
        // The reward model is retrained between rounds only, and there is no one-round ppo folder.
        Assert.False(Directory.Exists(Path.Combine(run, "rm-round2")));
        Assert.False(Directory.Exists(Path.Combine(run, "ppo")));
        Assert.Contains("[ppo-round2 2/3]", output);

        // rm-round1 continued from the rm stage's model on the pairs of round 1's policy (labelled by the gold labeller).
        Assert.Equal(Path.Combine(run, "rm", "model"), Key(Path.Combine(run, "rm-round1", "config.resolved.yaml"), "model"));
        Assert.Contains(Path.Combine(run, "label-round1", "prefs_train.jsonl"), Key(Path.Combine(run, "rm-round1", "config.resolved.yaml"), "extra_train_files"));
        Assert.Equal(Path.Combine(run, "ppo-round1", "model"), Key(Path.Combine(run, "label-round1", "config.resolved.yaml"), "model"));
        Assert.Equal("gold", Json(run, "label-round1", "summary.json")["judge"]!.GetValue<string>());
        // PPO round 2 started from round 1's policy and critic, scored by the retrained reward model, its KL still to SFT.
        var ppo2 = Path.Combine(run, "ppo-round2", "config.resolved.yaml");
        Assert.Equal(Path.Combine(run, "ppo-round1", "model"), Key(ppo2, "model"));
        Assert.Equal(sftModel, Key(ppo2, "ref_model"));
        Assert.Equal(Path.Combine(run, "rm-round1", "model"), Key(ppo2, "reward_model"));
        Assert.StartsWith(Path.Combine(run, "ppo-round1", "checkpoint-"), Key(ppo2, "value_model"));
        Assert.Equal(sftModel, Key(Path.Combine(run, "ppo-round1", "config.resolved.yaml"), "model"));
        // examples/ppo.yaml's 100 steps at steps_scale 0.05 are 5, shared out over the rounds.
        Assert.Equal(5, Json(run, "ppo-round1", "summary.json")["steps"]!.GetValue<int>() + Json(run, "ppo-round2", "summary.json")["steps"]!.GetValue<int>());

        var results = Json(run, "results.json");
        var rows = results["policies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(["sft", "ppo"], rows.Select(r => r["policy"]!.GetValue<string>()));
        var rounds = rows[1]["rounds"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal([1, 2], rounds.Select(r => r["round"]!.GetValue<int>()));
        Assert.Equal([Path.Combine(run, "rm", "model"), Path.Combine(run, "rm-round1", "model")], rounds.Select(r => r["reward_model"]!.GetValue<string>()));
        foreach (var r in rounds)
        {
            Assert.True(r["label/pairs"]!.GetValue<int>() > 0, "the labeller wrote no pairs to measure the reward model on");
            Assert.InRange(r["rm/accuracy_on_policy_before"]!.GetValue<double>(), 0, 1);
            Assert.InRange(r["eval/win_rate_vs_sft"]!.GetValue<double>(), 0, 1);
            Assert.True(double.IsFinite(r["eval/gold_score"]!.GetValue<double>()));
            Assert.True(double.IsFinite(r["eval/kl_to_sft"]!.GetValue<double>()));
        }
        Assert.InRange(rounds[0]["rm/accuracy_on_policy_after"]!.GetValue<double>(), 0, 1);
        Assert.Null(rounds[1]["rm/accuracy_on_policy_after"]);
        // The compared ppo policy is the last round's: its answers are those of ppo-round2's model.
        var eval = Run("eval", "--models", $"{sftModel},{Path.Combine(run, "ppo-round2", "model")}", "--data", data, "--eval_prompts", "6", "--samples_per_prompt", "2", "--out", Path.Combine(_dir, "eval.json"));
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Equal(rows[1]["eval/gold_score"]!.GetValue<double>(), Json(_dir, "eval.json")["models"]![1]!["mean_score"]!.GetValue<double>(), 12);

        Assert.Contains("| round | RM accuracy before | RM accuracy after | gold score | win rate vs SFT | KL to SFT |", output);
        Assert.Contains("| 2 | ", File.ReadAllText(Path.Combine(run, "results.md")));
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<h3>Rounds of ppo</h3>", report);
        Assert.Contains("<th>RM accuracy before</th>", report);

        // Run again: every round's runs are kept, and the results are the same.
        var again = Run(args);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("[ppo-round2] already done", again.Out);
        Assert.Contains("[rm-round1] already done", again.Out);
        Assert.Equal(results["policies"]!.ToJsonString(), Json(run, "results.json")["policies"]!.ToJsonString());
    }

    [Fact]
    public void RoundsThatCannotRunAreRejectedBeforeAnyWork()
    {
        var none = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "rounds=0");
        Assert.Equal(2, none.Code);
        Assert.Contains("rounds must be at least 1", none.Err);
        var noPpo = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "rounds=2", "--set", "stages=[sft, dpo]");
        Assert.Equal(2, noPpo.Code);
        Assert.Contains("rounds: 2 runs the ppo stage in rounds, but stages ([sft, dpo]) has no ppo", noPpo.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "sft")));
    }
}
