using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary>The training verbs' user-facing errors and outputs, run in process.</summary>
public sealed class TrainingVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("verbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DataBuiltinWritesTheTaskAndNeedsOut()
    {
        var (code, _, err) = Run("data", "builtin");
        Assert.Equal(2, code);
        Assert.Contains("--out", err);

        var dir = Path.Combine(_dir, "data");
        var ok = Run("data", "builtin", "--out", dir, "--train_prompts", "60", "--eval_prompts", "10", "--preference_pairs", "60", "--vocab_size", "300");
        Assert.Equal(0, ok.Code);
        Assert.Contains("preference pairs", ok.Out);
        Assert.NotNull(GoldScorer.TryCreate(dir));
    }

    [Fact]
    public void MalformedTrainingDataStopsWithFileLineAndField()
    {
        var dir = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(dir, new BuiltinTaskOptions { TrainPrompts = 60, EvalPrompts = 10, PreferencePairs = 60, TokenizerVocabSize = 300 });
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"prompt\": \"What is 1 + 1?\", \"completion\": \"2.\"}\n{\"prompt\": \"What is 2 + 2?\", \"completion\": 4}\n");
        var (code, _, err) = Run("sft", "--data", dir, "--train_file", bad, "--out", Path.Combine(_dir, "run"), "--max_steps", "1", "--warmup_steps", "0");
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl", err);
        Assert.Contains("line 2", err);
        Assert.Contains("completion", err);
        Assert.DoesNotContain("   at ", err); // no stack trace for a user's mistake
    }

    [Fact]
    public void UnknownKeysAndBadValuesAreUsageErrors()
    {
        var (code, _, err) = Run("rm", "--set", "learning_rte=1e-3");
        Assert.Equal(2, code);
        Assert.Contains("learning_rate", err);
        var (code2, _, err2) = Run("sft", "--data", _dir, "--warmup_steps", "50", "--max_steps", "10");
        Assert.Equal(2, code2);
        Assert.Contains("warmup_steps", err2);
    }
}
