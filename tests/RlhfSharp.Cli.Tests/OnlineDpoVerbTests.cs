using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf online-dpo</c> as a user runs it: the real process on a tiny built-in task.</summary>
public sealed class OnlineDpoVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onlinedpo-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteData()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 40, EvalPrompts = 6, PreferencePairs = 10, TokenizerVocabSize = 300 });
        return data;
    }

    [Fact]
    public void TrainsWithTheRewardModelAsJudgeAndWritesTheSummary()
    {
        var data = WriteData();
        var (sft, rm) = TinyModels.Write(_dir, data);
        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run(["online-dpo", "--data", data, "--model", sft, "--reward_model", rm, "--out", run,
            "--max_steps", "2", "--batch_size", "4", "--response_length", "4", "--eval_prompts", "4", "--save_every", "0",
            "--missing_eos_penalty", "0.5", "--learning_rate", "1e-3"]);

        Assert.True(code == ExitCodes.Success, $"exit {code}: {err}");
        Assert.Contains(run, output);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal("online-dpo", summary["stage"]!.GetValue<string>());
        foreach (var key in new[] { "eval/gold_score", "eval/win_rate_vs_ref", "objective/kl", "objective/scores" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        Assert.True(File.Exists(Path.Combine(run, "model", "model.safetensors")));
        var steps = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => l.ContainsKey("objective/scores")).ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.True(s.ContainsKey("reward/reward_model") && s.ContainsKey("val/contain_eos_token")));
    }

    [Fact]
    public void BadSettingsAreUsageErrorsNamingTheKey()
    {
        var data = WriteData();
        var (sft, rm) = TinyModels.Write(_dir, data);
        var (code, _, err) = Run(["online-dpo", "--data", data, "--model", sft, "--reward_model", rm, "--out", Path.Combine(_dir, "bad"), "--judge", "oracle"]);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("judge must be reward", err);
        Assert.Contains("'oracle'", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "model")));

        (code, _, err) = Run(["online-dpo", "--data", data, "--model", sft, "--reward_model", rm, "--out", Path.Combine(_dir, "bad2"),
            "--judge", "constitution", "--constitution", Path.Combine(_dir, "missing.yaml")]);
        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains("missing.yaml", err);
        Assert.DoesNotContain("   at ", err); // a user error: the message, no stack trace
    }
}
