using System.Text.Json.Nodes;
using RlhfSharp.TestSupport;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf kto</c>, <c>rlhf orpo</c> and <c>rlhf simpo</c> run as the real process, from their example configs.</summary>
public sealed class PreferenceVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prefverbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // tests/<project>/bin/<Configuration>/net10.0 -> the repository root
    private static string Example(string verb)
        => Path.Combine(new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName, "examples", verb + ".yaml");

    private (string Data, string Sft) Setup()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 32, EvalPrompts = 4, PreferencePairs = 32, TokenizerVocabSize = 300 });
        var (sft, _) = TinyModels.Write(_dir, data);
        return (data, sft);
    }

    private static string[] Short(string data, string sft, string outDir) =>
    [
        "--data", data, "--model", sft, "--out", outDir, "--threads", "2", "--max_steps", "3", "--warmup_steps", "1",
        "--batch_size", "4", "--eval_every", "3", "--save_every", "3", "--eval_prompts", "2", "--eval_samples", "1", "--max_new_tokens", "4", "--learning_rate", "0.003",
    ];

    [Theory]
    [InlineData("kto", "kl")]
    [InlineData("orpo", "log_odds_ratio")]
    [InlineData("simpo", "rewards/margins")]
    public void TheExampleConfigTrainsAndWritesTheSummary(string verb, string metric)
    {
        var (data, sft) = Setup();
        var run = Path.Combine(_dir, verb);
        var (code, stdout, err) = RlhfProcess.Run(RlhfProcess.Limit, [verb, "--config", Example(verb), .. Short(data, sft, run)]);
        Assert.True(code == 0, $"rlhf {verb}: exit {code}: {err}");
        Assert.Contains(run, stdout);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal(verb, summary["stage"]!.GetValue<string>());
        Assert.Equal(3, summary["steps"]!.GetValue<int>());
        foreach (var key in new[] { "eval/gold_score", "eval/win_rate_vs_ref", "eval/gold_score_ref", "eval/" + metric })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        Assert.Contains(File.ReadLines(Path.Combine(run, "metrics.jsonl")), l => l.Contains($"\"{metric}\"", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "model", "model.safetensors")));
    }

    [Fact]
    public void KtoTrainsOnAnUnpairedFileAndStopsAtAMalformedLine()
    {
        var (data, sft) = Setup();
        var good = Path.Combine(_dir, "kto.jsonl");
        File.WriteAllLines(good,
        [
            """{"prompt": "Which number is bigger: 3 or 9?", "completion": "The answer is 9.", "label": true}""",
            """{"prompt": "Which number is bigger: 3 or 9?", "completion": "Ugh, whatever, the answer is 9.", "label": false}""",
            """{"prompt": [{"role": "user", "content": "Sort from smallest to largest: 5 1 3."}], "completion": [{"role": "assistant", "content": "1 3 5."}], "label": true}""",
            """{"prompt": "Sort from smallest to largest: 5 1 3.", "completion": "Obviously, 1 3 5. Idiot.", "label": false}""",
        ]);
        var run = Path.Combine(_dir, "kto-unpaired");
        var (code, _, err) = RlhfProcess.Run(RlhfProcess.Limit, ["kto", .. Short(data, sft, run), "--train_file", good, "--eval_file", good]);
        Assert.True(code == 0, $"exit {code}: {err}");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal(2, summary["eval/count/chosen"]!.GetValue<double>());
        Assert.Equal(2, summary["eval/count/rejected"]!.GetValue<double>());

        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(bad, [.. File.ReadLines(good).Take(2), """{"prompt": "Hi", "completion": "Hello.", "label": "yes"}"""]);
        (code, _, err) = RlhfProcess.Run(RlhfProcess.Limit, ["kto", .. Short(data, sft, Path.Combine(_dir, "kto-bad")), "--train_file", bad]);
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl: line 3", err);
        Assert.Contains("\"label\"", err);
        Assert.Contains("true", err);
        Assert.DoesNotContain("   at ", err);
    }
}
