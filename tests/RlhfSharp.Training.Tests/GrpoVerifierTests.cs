using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf grpo</c> with verifiable rewards: the accuracy verifier and a format reward on the built-in task's arithmetic prompts.</summary>
public sealed class GrpoVerifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grpo-verif-").FullName;

    public GrpoVerifierTests()
    {
        TinyRlTask.Write(DataDir, SftDir, evalPrompts: 30);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LogsEachVerifierAndHeldOutAccuracy()
    {
        var cfg = new GrpoConfig
        {
            Data = DataDir,
            TrainFile = Path.Combine(DataDir, BuiltinTaskGenerator.ArithmeticTrainFileName),
            EvalFile = Path.Combine(DataDir, BuiltinTaskGenerator.ArithmeticEvalFileName),
            Model = SftDir,
            RewardFuncs = ["accuracy", "format"],
            RewardWeights = [1, 0.2],
            FormatPattern = @"\d+",
            FormatMatch = "search",
            BatchSize = 2,
            NumGenerations = 2,
            MaxSteps = 2,
            ResponseLength = 4,
            EvalEvery = 2,
            SaveEvery = 2,
            EvalPrompts = 4,
            Threads = 1,
        };
        var run = Path.Combine(_dir, "run");
        var summary = GrpoTrainer.Run(cfg, run, resume: false);
        var lines = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var steps = lines.Where(l => l.ContainsKey("reward_std")).ToList();
        Assert.Equal(2, steps.Count);
        foreach (var step in steps)
        {
            Assert.InRange(step["reward/accuracy"]!.GetValue<double>(), 0, 1);
            Assert.InRange(step["reward/format"]!.GetValue<double>(), 0, 1);
        }
        // Held-out accuracy at the start (before any step) and at the evaluation, and in summary.json.
        var evals = lines.Where(l => l.ContainsKey("eval/accuracy")).ToList();
        Assert.True(evals.Count >= 2, $"eval/accuracy logged {evals.Count} times");
        Assert.All(evals, e => Assert.InRange(e["eval/accuracy"]!.GetValue<double>(), 0, 1));
        Assert.InRange(summary["eval/accuracy"]!.GetValue<double>(), 0, 1);
        Assert.InRange(summary["eval/accuracy_ref"]!.GetValue<double>(), 0, 1);
        Assert.True(summary.ContainsKey("eval/win_rate_vs_ref"));
    }

    [Fact]
    public void PromptsWithoutReferenceAnswersStopTheRunNamingFileLineAndField()
    {
        var prompts = Path.Combine(_dir, "bare.jsonl");
        File.WriteAllText(prompts, string.Concat(Enumerable.Range(1, 4).Select(i => $"{{\"prompt\": \"What is {i} + 1?\"}}\n")));
        var cfg = new GrpoConfig
        {
            Data = DataDir,
            TrainFile = prompts,
            Model = SftDir,
            RewardFuncs = ["accuracy"],
            BatchSize = 2,
            NumGenerations = 2,
            MaxSteps = 1,
            ResponseLength = 4,
            EvalPrompts = 2,
            Threads = 1,
        };
        var e = Assert.Throws<Data.DataFormatException>(() => GrpoTrainer.Run(cfg, Path.Combine(_dir, "bare-run"), resume: false));
        Assert.Contains("bare.jsonl: line ", e.Message, StringComparison.Ordinal);
        Assert.Contains("field \"label\": the accuracy reward needs a reference answer", e.Message, StringComparison.Ordinal);
    }
}
