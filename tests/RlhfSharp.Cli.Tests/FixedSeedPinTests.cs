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
/// Wall-clock metrics (time/…) are left out of the fingerprint. The GEMM's blocking and the
/// vectorised reductions follow the vector width, so each width has its own, equally valid, low bits:
/// there is one set of pins for 512-bit kernels (AVX-512) and one for 256-bit kernels (AVX2 with FMA),
/// both at two kernel threads, and a change that alters numbers on purpose updates both.
/// </summary>
public sealed class FixedSeedPinTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> Pins512 = new()
    {
        ["sft"] = "97405EF83C4B976F27B5B471386F3E37E6942C4F7693561505F4CDBEB70FA0BD",
        ["rm"] = "61601F6A33291DC900665B61189C6BD95F1BBFAFDC0D30E3CABFBDD8DF25AEEF",
        ["ppo"] = "F87BF73C476D13AF860B7C4C1469B5E56DF8848DD935128E15412EAAA0FB64FE",
        ["ppo_options"] = "5A8F77C7FC83247F39B7E22E63A99A57B9F9114F18C8818E1417623E3E33E8AE",
        ["dpo"] = "14EBCCF3E2FD90BC138115CDA38E812854F5005FF86F1AAAF2EE87CF3B7BA81E",
        ["grpo"] = "C56E41F67E5EA49B309D189E274DF6715A979EE6D42CC25E0F011C33523D29D1",
        ["grpo_rloo"] = "7AB78907C0755289D0B3AABD770533FDD76823A25095F39629CCD48AA8EC9C53",
    };

    private static readonly Dictionary<string, string> Pins256 = new()
    {
        ["sft"] = "AC7FD1DF44ACF8C8023F6575F6280ED4FEE6C8106663B3BA65E0D600DD99203B",
        ["rm"] = "7C626418AD614963671CA21ACCE720C01224A4B6346962C26225EB2EDB4A0528",
        ["ppo"] = "94BC60281DEE9F3F164E38CB68A76A399F036C6880338BDB471E094FCF704233",
        ["ppo_options"] = "73662B89C43C0A7A5E02A0799B0235E3ACEF2718CBBE4266C5D07A45AF1F27B9",
        ["dpo"] = "BF233A4BBAD2E25344F55FDDB543982DFD9FD1F8AF0258067BB0D1D080A4972C",
        ["grpo"] = "07268E2632D1287FE0FEEBE5BCCC64915CE795E1F8CC1B0A768D37CFCE1E3C0B",
        ["grpo_rloo"] = "12F02BF0F07933F90A1651FFCF993521AC752518488F213A519F64FA9A53CC13",
    };

    // The pins of the widest vectors this machine's kernels use, with the width's name.
    private static (string Width, Dictionary<string, string>? Pins) ThisMachine() =>
        Vector512.IsHardwareAccelerated ? ("512-bit (AVX-512)", Pins512)
        : Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? ("256-bit (AVX2 with FMA)", Pins256)
        : ("narrower than 256-bit", null);

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
        var (width, pins) = ThisMachine();
        Assert.True(pins is not null, $"pins exist for 512-bit and 256-bit kernels; this machine's vectors are {width}, so the pinned low bits cannot be compared");
        var (data, sft, rm) = Setup();
        var got = new Dictionary<string, string>();
        foreach (var run in pins.Keys)
        {
            var outDir = Path.Combine(_dir, run);
            string[] flags = Flags(run, sft, rm);
            var (code, _, err) = CliRun.Run([flags[0], "--data", data, "--out", outDir, .. Common, .. flags[1..]]);
            Assert.True(code == 0, $"{run}: exit {code}: {err}");
            got[run] = Fingerprint(run, outDir);
        }
        var report = string.Join("\n", got.Select(p => $"[\"{p.Key}\"] = \"{p.Value}\","));
        foreach (var (run, pin) in pins)
            Assert.True(pin == got[run], $"{run} no longer matches its {width} pin; all fingerprints now:\n{report}");
    }
}
