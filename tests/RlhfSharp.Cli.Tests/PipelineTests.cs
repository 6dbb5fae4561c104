using System.Text.Json.Nodes;

namespace RlhfSharp.Cli.Tests;

/// <summary><c>rlhf pipeline</c> end to end at a small fraction of the example configs' steps.</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RlhfCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void EveryStageRunsAndEveryPolicyIsComparedWithSft()
    {
        var run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("pipeline", "--out", run, "--steps_scale", "0.02", "--eval_prompts", "12");
        Assert.True(code == 0, err);
        foreach (var stage in new[] { "data", "sft", "rm", "ppo", "dpo", "grpo" })
            Assert.True(Directory.Exists(Path.Combine(run, stage)), $"no {stage} folder");
        foreach (var stage in new[] { "sft", "rm", "ppo", "dpo", "grpo" })
            Assert.True(File.Exists(Path.Combine(run, stage, "summary.json")), $"{stage} did not finish");

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
        // The table is printed and kept beside the results.
        Assert.Contains("| policy | gold score | win rate vs SFT |", output);
        Assert.Equal(File.ReadAllText(Path.Combine(run, "results.md")).Trim(), output[output.IndexOf("| policy", StringComparison.Ordinal)..output.IndexOf("run folder:", StringComparison.Ordinal)].Trim());

        // Run again: the finished stages are kept, and the comparison comes out the same.
        var again = Run("pipeline", "--out", run, "--steps_scale", "0.02", "--eval_prompts", "12");
        Assert.Equal(0, again.Code);
        Assert.Contains("[grpo] already done", again.Out);
        Assert.Equal(File.ReadAllText(Path.Combine(run, "results.json")), File.ReadAllText(Path.Combine(run, "results.json")));
        Assert.Equal(results["policies"]!.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(run, "results.json")))!["policies"]!.ToJsonString());
    }

    [Fact]
    public void StagesThatCannotRunAreRejectedBeforeAnyWork()
    {
        var (code, _, err) = Run("pipeline", "--out", Path.Combine(_dir, "bad"), "--set", "stages=[sft, ppo]");
        Assert.Equal(2, code);
        Assert.Contains("ppo needs the rm stage", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad", "sft")));
    }
}
