using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Short fixed-seed runs of every trainer end with exactly the metrics and weights pinned here.
/// A change that is meant to leave results alone (a refactor, a move, a rename) must keep these;
/// a change that alters the numbers on purpose updates the pins in the same commit and says why.
/// Wall-clock metrics (time/…) are left out of the fingerprint. The pins hold for this project's
/// machines (AVX-512, two kernel threads): the GEMM's blocking follows the vector width, so another
/// width gives other, equally valid, low bits.
/// </summary>
public sealed class FixedSeedPinTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> Pins = new()
    {
        ["sft"] = "81A237BE9E75AE1D3EB71A9D6D3E01959488775CF7F8FE7AA9A53FF79D2254CE",
        ["rm"] = "78C67629B3CEC880375FFC3EA2DD6DF4F53D5EEF68277FD8B4B3FD77620F7C66",
        ["ppo"] = "4A1CDF3CC1C715962999701BA81976C2D7C1B125AF1A227A9405E1BADCC26C9D",
        ["ppo_options"] = "8EE5C61C60AA9F38CC55D0417FBD705B737ABF7806E3DEBBA40938A8BBE6C605",
        ["dpo"] = "0019EFA66708E1E120AA3E27438E3C11EBE2118AB6579935CE5E23E21C452AAE",
        ["grpo"] = "53FF0AEE63530F84CC2D32D38CC4F8C7A432E489E55C0B12BBAB3FC999A7E7E8",
        ["grpo_rloo"] = "F3F976D0C4AAA84C9BA2504CA9ACBF5F2E7DFAF15899A9954F34C38DBBF1FA78",
    };

    private static readonly string[] Common = ["--threads", "2", "--seed", "3", "--log_every", "1"];

    private static readonly string[] TinyModel =
    [
        "--max_steps", "6", "--warmup_steps", "1", "--batch_size", "8", "--eval_every", "3",
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    private (string Data, string Sft, string Rm) Setup()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 64, EvalPrompts = 8, PreferencePairs = 64, TokenizerVocabSize = 300 });
        var (sft, rm) = TinyModels.Write(_dir, data);
        return (data, sft, rm);
    }

    private static string[] Flags(string run, string sft, string rm)
    {
        string[] rl = ["--model", sft, "--max_steps", "4", "--eval_every", "2", "--eval_prompts", "4", "--learning_rate", "0.003", "--response_length", "6"];
        return run switch
        {
            "sft" => ["sft", .. TinyModel, "--eval_prompts", "4", "--max_new_tokens", "6"],
            "rm" => ["rm", .. TinyModel],
            "ppo" => ["ppo", .. rl, "--batch_size", "8", "--reward_model", rm, "--mini_batch_size", "4"],
            "ppo_options" =>
            [
                "ppo", .. rl, "--batch_size", "8", "--reward_model", rm, "--reward_funcs", "[gold]", "--mini_batch_size", "4", "--ppo_epochs", "2",
                "--gradient_accumulation_steps", "2", "--entropy_coef", "0.01", "--ptx_coef", "0.5", "--missing_eos_penalty", "1",
                "--normalize_scores", "true", "--score_clip", "3", "--target_kl", "0.5", "--lam", "0.9", "--gamma", "0.99",
            ],
            "dpo" => ["dpo", "--model", sft, "--max_steps", "6", "--warmup_steps", "2", "--eval_every", "3", "--eval_prompts", "4", "--max_new_tokens", "6", "--batch_size", "8", "--learning_rate", "0.003"],
            "grpo" => ["grpo", .. rl, "--reward_funcs", "[gold]", "--batch_size", "4", "--num_generations", "4", "--mini_batch_size", "8", "--num_iterations", "2"],
            "grpo_rloo" => ["grpo", .. rl, "--reward_model", rm, "--batch_size", "4", "--num_generations", "4", "--advantage", "rloo", "--epsilon_high", "0.28", "--loss_aggregation", "seq_mean", "--beta", "0.1"],
            _ => throw new ArgumentException(run),
        };
    }

    /// <summary>
    /// SHA-256 over every logged metric but wall-clock times, in file order, and the saved weights.
    /// With RLHFSHARP_PIN_DUMP set to a folder, the metrics text is also written there, to diff.
    /// </summary>
    private static string Fingerprint(string run, string runDir)
    {
        var text = new StringBuilder();
        foreach (var line in File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Where(l => l.Length > 0))
        {
            var o = JsonNode.Parse(line)!.AsObject();
            foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                if (k != "time" && !k.StartsWith("time/", StringComparison.Ordinal))
                    text.Append(k).Append('=').Append(v?.ToJsonString()).Append(';');
            text.Append('\n');
        }
        if (Environment.GetEnvironmentVariable("RLHFSHARP_PIN_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, run + ".txt"), text.ToString());
        }
        using var sha = SHA256.Create();
        var bytes = Encoding.UTF8.GetBytes(text.ToString()).Concat(File.ReadAllBytes(Path.Combine(runDir, "model", "model.safetensors"))).ToArray();
        return Convert.ToHexString(sha.ComputeHash(bytes));
    }

    [Fact]
    public void FixedSeedRunsMatchTheirPins()
    {
        Assert.True(Vector512.IsHardwareAccelerated, "the pins were recorded with AVX-512 kernels; this machine has none, so the pinned low bits cannot be compared");
        var (data, sft, rm) = Setup();
        var got = new Dictionary<string, string>();
        foreach (var run in Pins.Keys)
        {
            var outDir = Path.Combine(_dir, run);
            string[] flags = Flags(run, sft, rm);
            var (code, _, err) = CliRun.Run([flags[0], "--data", data, "--out", outDir, .. Common, .. flags[1..]]);
            Assert.True(code == 0, $"{run}: exit {code}: {err}");
            got[run] = Fingerprint(run, outDir);
        }
        var report = string.Join("\n", got.Select(p => $"[\"{p.Key}\"] = \"{p.Value}\","));
        foreach (var (run, pin) in Pins)
            Assert.True(pin == got[run], $"{run} no longer matches its pin; all fingerprints now:\n{report}");
    }
}
