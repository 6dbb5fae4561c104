using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Checkpointing;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// A training run killed with SIGKILL at random moments and resumed each time ends with exactly
/// the weights of a run that was never interrupted.
/// </summary>
public sealed class ResumeAfterKillTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteData()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 120, EvalPrompts = 12, PreferencePairs = 120, TokenizerVocabSize = 300 });
        return data;
    }

    private static readonly string[] TinyModel =
    [
        "--max_steps", "48", "--warmup_steps", "2", "--save_every", "3", "--eval_every", "10", "--log_every", "2", "--batch_size", "8",
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    /// <summary>The step of the latest complete checkpoint in a run folder, or −1.</summary>
    internal static long LatestCheckpoint(string runDir) => new CheckpointStore(runDir).Latest()?.Step ?? -1;

    // PPO starts from saved models: a tiny random policy and reward model with the task's tokenizer.
    private string[] PpoFlags(string data)
    {
        var (sft, rm) = TinyModels.Write(_dir, data);
        return
        [
            "--model", sft, "--reward_model", rm, "--max_steps", "45", "--save_every", "3", "--eval_every", "15", "--eval_prompts", "4",
            "--log_every", "2", "--batch_size", "8", "--mini_batch_size", "4", "--response_length", "6", "--learning_rate", "0.003",
        ];
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("rm")]
    [InlineData("ppo")]
    [InlineData("dpo")]
    public void KilledAndResumedRunEndsBitIdentical(string verb)
    {
        var data = WriteData();
        var straight = Path.Combine(_dir, "straight");
        string[] flags = verb switch
        {
            "sft" => [.. TinyModel, "--eval_prompts", "4", "--max_new_tokens", "6"],
            "ppo" => PpoFlags(data),
            "dpo" => [.. PpoFlags(data).Take(2), "--max_steps", "45", "--save_every", "3", "--eval_every", "15", "--eval_prompts", "4", "--max_new_tokens", "6", "--batch_size", "8", "--log_every", "2", "--learning_rate", "0.003"],
            _ => TinyModel,
        };
        string[] Args(string outDir) => [verb, "--data", data, "--out", outDir, .. flags];
        Assert.Equal(0, RlhfProcess.Run(Limit, Args(straight)).Code);

        var killed = Path.Combine(_dir, "killed");
        var rng = new Random(verb.Length * 7919);
        int kills = 0;
        // Kill once each run has written a checkpoint at or past these steps (plus a random few
        // milliseconds, so the kill lands anywhere in the following steps or checkpoint writes).
        foreach (int target in new[] { 6, 21, 39 })
        {
            bool started = File.Exists(Path.Combine(killed, "config.resolved.yaml"));
            using var p = RlhfProcess.Launch(started ? [verb, "--resume", killed] : Args(killed));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!p.HasExited && LatestCheckpoint(killed) < target && watch.Elapsed < Limit)
                Thread.Sleep(2);
            if (p.HasExited)
                continue;
            Thread.Sleep(rng.Next(40));
            p.Kill(); // SIGKILL: no cleanup code runs
            kills++;
        }
        Assert.True(kills >= 2, $"only {kills} of 3 runs were still going when their checkpoint appeared; the test proves too little");
        Assert.Equal(0, RlhfProcess.Run(Limit, verb, "--resume", killed).Code);
        Assert.True(File.Exists(Path.Combine(killed, "summary.json")), "the interrupted run never completed");
        var a = File.ReadAllBytes(Path.Combine(straight, "model", "model.safetensors"));
        var b = File.ReadAllBytes(Path.Combine(killed, "model", "model.safetensors"));
        Assert.Equal(a, b);
    }
}
