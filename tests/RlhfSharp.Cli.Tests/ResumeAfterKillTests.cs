using RlhfSharp.Training.BuiltinTask;

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
        "--max_steps", "40", "--warmup_steps", "2", "--save_every", "3", "--eval_every", "10", "--log_every", "2", "--batch_size", "8",
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    [Theory]
    [InlineData("sft")]
    [InlineData("rm")]
    public void KilledAndResumedRunEndsBitIdentical(string verb)
    {
        var data = WriteData();
        var straight = Path.Combine(_dir, "straight");
        string[] evalFlags = verb == "sft" ? ["--eval_prompts", "4", "--max_new_tokens", "6"] : [];
        string[] Args(string outDir) => [verb, "--data", data, "--out", outDir, .. TinyModel, .. evalFlags];
        Assert.Equal(0, RlhfProcess.Run(Limit, Args(straight)));

        var killed = Path.Combine(_dir, "killed");
        var rng = new Random(verb.Length * 7919);
        int kills = 0, killsAfterCheckpoint = 0;
        for (int attempt = 0; attempt < 12; attempt++)
        {
            bool started = File.Exists(Path.Combine(killed, "config.resolved.yaml"));
            string[] args = started ? [verb, "--resume", killed] : Args(killed);
            using var p = RlhfProcess.Start(args);
            if (kills < 4 && !p.WaitForExit(TimeSpan.FromMilliseconds(400 + rng.Next(1200))))
            {
                p.Kill(entireProcessTree: true); // SIGKILL: no cleanup code runs
                p.WaitForExit();
                kills++;
                if (Directory.GetDirectories(killed, "checkpoint-*").Length > 0)
                    killsAfterCheckpoint++;
                continue;
            }
            Assert.True(p.WaitForExit(Limit), "the resumed run did not finish");
            if (p.ExitCode == 0 && File.Exists(Path.Combine(killed, "summary.json")))
                break;
            Assert.Equal(0, p.ExitCode);
        }
        Assert.True(killsAfterCheckpoint >= 1, $"{kills} kills, none after a checkpoint existed; the test proves nothing");
        Assert.True(File.Exists(Path.Combine(killed, "summary.json")), "the interrupted run never completed");
        var a = File.ReadAllBytes(Path.Combine(straight, "model", "model.safetensors"));
        var b = File.ReadAllBytes(Path.Combine(killed, "model", "model.safetensors"));
        Assert.Equal(a, b);
    }
}
