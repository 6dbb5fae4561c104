using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary>Two tiny SFT models, a tiny reward model, and the built-in task's data with and without its gold scorer.</summary>
public sealed class EvalFixture : IDisposable
{
    public EvalFixture()
    {
        Data = Path.Combine(Dir, "data");
        Check(Run("data", "builtin", "--out", Data, "--train_prompts", "100", "--eval_prompts", "10", "--preference_pairs", "100", "--vocab_size", "300"));
        foreach (var (name, steps) in new[] { ("a", "1"), ("b", "20") })
        {
            Check(Run("sft", "--data", Data, "--out", Path.Combine(Dir, name), "--max_steps", steps, "--warmup_steps", "0", "--eval_prompts", "0", "--batch_size", "8",
                "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2", "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64"));
        }
        Check(Run("rm", "--data", Data, "--model", ModelA, "--out", Path.Combine(Dir, "rm"), "--max_steps", "1", "--warmup_steps", "0", "--batch_size", "8"));
        NoGold = Path.Combine(Dir, "nogold");
        Directory.CreateDirectory(NoGold);
        File.Copy(Path.Combine(Data, "prompts_eval.jsonl"), Path.Combine(NoGold, "prompts_eval.jsonl"));
    }

    public string Dir { get; } = Directory.CreateTempSubdirectory("eval-").FullName;

    public string Data { get; }

    /// <summary>The same prompts without the built-in task's marker: no gold scorer.</summary>
    public string NoGold { get; }

    public string ModelA => Path.Combine(Dir, "a", "model");

    public string ModelB => Path.Combine(Dir, "b", "model");

    public string RewardModel => Path.Combine(Dir, "rm", "model");

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    private static void Check((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, r.Err);
}

/// <summary><c>rlhf eval --models A,B,… --data DIR</c>: mean scores and the pairwise win-rate matrix.</summary>
public sealed class EvalVerbTests(EvalFixture f) : IClassFixture<EvalFixture>
{
    [Fact]
    public void PrintsAndWritesTheWinRateMatrixJudgedByGold()
    {
        var json = Path.Combine(f.Dir, "eval.json");
        var (code, output, err) = Run("eval", "--models", $"{f.ModelA},{f.ModelB},again={f.ModelA}", "--data", f.Data, "--out", json);
        Assert.True(code == 0, err);
        Assert.Contains("Judged by the gold scorer on 10 prompts (8 sampled answers each at temperature 1, seed 1).", output);
        Assert.Contains("| model | mean gold | response words | KL to a/model |", output);
        Assert.Contains("Win rate of the row's model against the column's (ties count half):", output);
        Assert.Contains("| | a/model | b/model | again |", output);
        Assert.Contains("Mean gold per skill of the prompts:", output);
        Assert.Contains("| skill | prompts | a/model | b/model | again |", output);

        var result = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal("gold", result["judge"]!.GetValue<string>());
        Assert.Equal(10, result["prompts"]!.GetValue<int>());
        Assert.Equal(8, result["samples_per_prompt"]!.GetValue<int>());
        // Every prompt counts under its skill once, and each model's skill means, weighted by prompts, give its overall mean.
        var skillPrompts = result["skill_prompts"]!.AsObject();
        Assert.Equal(10, skillPrompts.Sum(kv => kv.Value!.GetValue<int>()));
        foreach (var m in result["models"]!.AsArray())
        {
            double weighted = m!["per_skill"]!.AsObject().Sum(kv => kv.Value!.GetValue<double>() * skillPrompts[kv.Key]!.GetValue<int>()) / 10;
            Assert.Equal(m["mean_score"]!.GetValue<double>(), weighted, 9);
        }
        Assert.Equal(["a/model", "b/model", "again"], result["models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        var w = result["win_rate"]!.AsArray().Select(r => r!.AsArray().Select(v => v?.GetValue<double>()).ToArray()).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.Null(w[i][i]);
            for (int j = 0; j < 3; j++)
            {
                if (i != j)
                    Assert.Equal(1.0, w[i][j]!.Value + w[j][i]!.Value, 12); // row beats column, ties half
            }
        }
        // The same model from the same seed gives the same answers: every prompt a tie.
        Assert.Equal(0.5, w[0][2]);
        Assert.Equal(w[0][1], w[2][1]);
        Assert.Equal(result["models"]![0]!["mean_score"]!.GetValue<double>(), result["models"]![2]!["mean_score"]!.GetValue<double>());

        // KL to the first model, from each model's own sampled answers: none for the first or its
        // copy (identical log-probs), and a positive estimate for a model trained 20 times longer.
        var kl = result["models"]!.AsArray().Select(m => m!["kl_to_first"]!.GetValue<double>()).ToArray();
        Assert.Equal(0.0, kl[0]);
        Assert.Equal(0.0, kl[2]);
        Assert.True(kl[1] > 0.1, $"KL of b/model to a/model {kl[1]}");
    }

    [Fact]
    public void DataWithoutAGoldScorerNeedsARewardModel()
    {
        var (code, _, err) = Run("eval", "--models", $"{f.ModelA},{f.ModelB}", "--data", f.NoGold);
        Assert.Equal(2, code);
        Assert.Contains($"{f.NoGold}: this data folder has no gold scorer", err);
        Assert.Contains("--reward_model DIR", err);
        Assert.Null(GoldScorer.TryCreate(f.NoGold));

        var (code2, output, err2) = Run("eval", "--models", $"{f.ModelA},{f.ModelB}", "--data", f.NoGold, "--reward_model", f.RewardModel, "--temperature", "0", "--eval_prompts", "4");
        Assert.True(code2 == 0, err2);
        Assert.Contains($"Judged by the reward model {f.RewardModel} on 4 prompts (greedy, seed 1).", output);
        Assert.Contains("| model | mean reward | response words |\n", output.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("KL to", output); // greedy answers are not samples of the policy: no KL estimate
    }

    [Fact]
    public void PromptsTheGoldScorerDoesNotKnowAreLeftOutAndCounted()
    {
        var known = File.ReadLines(Path.Combine(f.Data, "prompts_eval.jsonl")).Take(2).ToList();
        var mixed = Path.Combine(f.Dir, "mixed.jsonl");
        File.WriteAllLines(mixed, [known[0], """{"prompt": "Tell me a joke about ducks."}""", known[1], """{"prompt": "Write a haiku."}"""]);
        var json = Path.Combine(f.Dir, "mixed-eval.json");
        var (code, output, err) = Run("eval", "--models", $"{f.ModelA},{f.ModelB}", "--data", f.Data, "--prompts_file", mixed, "--temperature", "0", "--out", json);
        Assert.True(code == 0, err);
        Assert.Contains("Judged by the gold scorer on 2 prompts (greedy, seed 1).", output);
        Assert.Contains($"2 prompts are not built-in task prompts: the gold scorer cannot judge them, so they were left out (the first is {mixed} line 2)", output);
        var result = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal((2, 2), (result["prompts"]!.GetValue<int>(), result["prompts_left_out"]!.GetValue<int>()));
    }

    [Fact]
    public void ASkillThatIsNotAStringIsAnErrorNamingItsLine()
    {
        var bad = Path.Combine(f.Dir, "bad-skill.jsonl");
        File.WriteAllLines(bad, ["""{"prompt": "Is 12 odd?", "skill": "parity"}""", """{"prompt": "What is 2 + 3?", "skill": 5}"""]);
        var (code, _, err) = Run("eval", "--models", f.ModelA, "--data", f.Data, "--prompts_file", bad, "--temperature", "0");
        Assert.Equal(2, code);
        Assert.Contains($"{bad}: line 2: field \"skill\": is a number (5); a skill is a non-empty string", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void OnlyUnknownPromptsAreAnErrorNamingTheFirstOnesLine()
    {
        var unknown = Path.Combine(f.Dir, "unknown.jsonl");
        File.WriteAllLines(unknown, ["", """{"prompt": "Tell me a joke about ducks."}""", """{"prompt": "Write a haiku."}"""]);
        var (code, _, err) = Run("eval", "--models", f.ModelA, "--data", f.Data, "--prompts_file", unknown);
        Assert.Equal(2, code);
        Assert.Contains($"{unknown}: line 2: the prompt \"Tell me a joke about ducks.\" is not a built-in task prompt", err);
        Assert.Contains("--reward_model DIR", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void ModelsAndPromptsAreRequired()
    {
        var (code, _, err) = Run("eval", "--data", f.Data);
        Assert.Equal(2, code);
        Assert.Contains("models is required", err);
        var (code2, _, err2) = Run("eval", "--models", f.ModelA);
        Assert.Equal(2, code2);
        Assert.Contains("give data", err2);
        var (code3, _, err3) = Run("eval", "--models", Path.Combine(f.Dir, "missing"), "--data", f.Data);
        Assert.Equal(2, code3);
        Assert.Contains("model folder not found (config key 'models')", err3);
    }
}
