using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// <c>rlhf grpo</c> with <c>on_reward_hacking: stop</c> as a real process: a tiny SFT policy that
/// sometimes answers rudely, trained on a proxy that pays for the rude words the gold scorer
/// penalises, trips the alarm; the run stops with exit code 4 after that step's checkpoint and
/// model, and <c>rlhf report</c> shows the banner and the over-optimisation curve.
/// </summary>
public sealed class RewardHackingCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hacking-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void StopExitsWithItsOwnCodeAndTheReportShowsTheAlarm()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 80, EvalPrompts = 8, PreferencePairs = 10, TokenizerVocabSize = 300 });
        var sft = Path.Combine(_dir, "sft");
        var (code, output, err) = Run(["sft", "--data", data, "--out", sft, "--max_steps", "200", "--learning_rate", "1e-2", "--warmup_steps", "2", "--batch_size", "16",
            "--eval_prompts", "1", "--threads", "1", "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
            "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64", "--model_init.max_positions", "64"]);
        Assert.True(code == ExitCodes.Success, $"sft exit {code}: {err}");

        var run = Path.Combine(_dir, "grpo");
        (code, output, err) = Run(["grpo", "--data", data, "--model", Path.Combine(sft, "model"), "--out", run,
            "--set", "reward_funcs=[format]", "--set", "format_pattern=(?i)idiot|stupid|dumb|obviously|duh|whatever|ugh", "--set", "format_match=search",
            "--batch_size", "4", "--num_generations", "4", "--mini_batch_size", "16", "--max_steps", "16", "--response_length", "12",
            "--learning_rate", "5e-3", "--eval_every", "2", "--save_every", "100", "--eval_samples", "2", "--threads", "1",
            "--reward_hacking_proxy_rise", "0.1", "--reward_hacking_gold_drop", "0.05", "--on_reward_hacking", "stop"]);
        Assert.True(code == ExitCodes.RewardHacking, $"grpo exit {code}: {output}\n{err}");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        long step = summary["reward_hacking"]!["step"]!.GetValue<long>();
        Assert.Equal(step, summary["steps"]!.GetValue<long>());
        Assert.True(step < 16);
        Assert.Contains($"reward hacking at step {step}:", output + err);
        Assert.True(Directory.Exists(Path.Combine(run, $"checkpoint-{step}")));

        (code, _, err) = Run(["report", run]);
        Assert.True(code == ExitCodes.Success, $"report exit {code}: {err}");
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<div class=\"alarm\" role=\"alert\"", html);
        Assert.Contains($"reward hacking at step {step}:", html);
        Assert.Contains("-overoptimisation\">", html);
        Assert.Contains("Gold peaked at √KL", html);
    }
}
