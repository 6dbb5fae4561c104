using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// <c>rlhf sft --resume</c> on a run folder whose latest checkpoint was damaged after it was
/// written: the run says which checkpoint it skipped and why, continues from the one before, and
/// ends with the weights of the undamaged run. A damaged checkpoint named explicitly is an error.
/// </summary>
public sealed class CheckpointFallbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fallback-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] TinySft =
    [
        "--max_steps", "6", "--warmup_steps", "2", "--save_every", "3", "--keep_checkpoints", "3", "--eval_every", "0", "--log_every", "1",
        "--batch_size", "8", "--eval_prompts", "2", "--max_new_tokens", "4",
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    /// <summary>
    /// A finished tiny SFT run turned into one killed right after its step-6 checkpoint (no final
    /// model, no summary), with one byte of that checkpoint's weights flipped. Returns the run
    /// folder and the final weights the undamaged run wrote.
    /// </summary>
    private (string Run, byte[] Weights) DamagedRun()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 60, EvalPrompts = 4, PreferencePairs = 8, TokenizerVocabSize = 300 });
        var run = Path.Combine(_dir, "run");
        var (code, _, err) = CliRun.Run(["sft", "--data", data, "--out", run, .. TinySft]);
        Assert.True(code == 0, err);
        var weights = File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors"));
        File.Delete(Path.Combine(run, "summary.json"));
        Directory.Delete(Path.Combine(run, "model"), recursive: true);

        var damaged = Directory.GetFiles(Path.Combine(run, "checkpoint-6"), "model.safetensors", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(damaged);
        bytes[^7] ^= 0x04;
        File.WriteAllBytes(damaged, bytes);
        return (run, weights);
    }

    [Fact]
    public void ResumeSkipsTheDamagedLatestCheckpointSaysWhyAndEndsAsTheUndamagedRun()
    {
        var (run, weights) = DamagedRun();
        var (code, output, err) = CliRun.Run("sft", "--resume", run);
        Assert.True(code == 0, err);
        var skipped = Assert.Single(output.Split('\n'), l => l.Contains("skipped", StringComparison.Ordinal));
        Assert.Contains(Path.Combine(run, "checkpoint-6"), skipped);
        Assert.Contains("model.safetensors does not match its SHA-256", skipped);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "summary.json")), "the resumed run never finished");
    }

    [Fact]
    public void AnExplicitlyNamedDamagedCheckpointIsAnErrorAndAWholeOneIsUsed()
    {
        var (run, weights) = DamagedRun();
        var damaged = Path.Combine(run, "checkpoint-6");
        var (code, _, err) = CliRun.Run("sft", "--resume", damaged);
        Assert.Equal(2, code);
        Assert.Contains($"{damaged} cannot be resumed", err);
        Assert.Contains("does not match its SHA-256", err);
        Assert.Contains("checkpoint-3", err); // the one that would work
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(Path.Combine(run, "summary.json")));

        var (code2, output2, err2) = CliRun.Run("sft", "--resume", Path.Combine(run, "checkpoint-3"));
        Assert.True(code2 == 0, err2);
        Assert.DoesNotContain("skipped", output2);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors")));
    }
}
