using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Every trainer with <c>--device cpu-accelerator</c>: the GPU engine's kernels on host threads,
/// the code path a CUDA run takes, against the same short fixed-seed run on the CPU engine. The
/// two engines round differently (see the op suite), so metrics are compared with a tolerance:
/// a few steps of training amplify 1e-7 differences to about 1e-4 relative in losses; sampled
/// tokens may diverge once a probability lands on the other side of a uniform draw, so RL runs are
/// compared on what precedes their first sampling difference (the first step's log line).
/// </summary>
public sealed class DeviceRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("device-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Common = ["--threads", "2", "--seed", "3", "--log_every", "1"];

    private static readonly string[] TinyModel =
    [
        "--max_steps", "4", "--warmup_steps", "1", "--batch_size", "4", "--eval_every", "2",
        "--model_init.hidden_size", "32", "--model_init.num_layers", "2", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    private (string Data, string Sft, string Rm) Setup()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 32, EvalPrompts = 4, PreferencePairs = 32, TokenizerVocabSize = 300 });
        var (sft, rm) = TinyModels.Write(_dir, data);
        return (data, sft, rm);
    }

    private static string[] Flags(string run, string sft, string rm)
    {
        string[] rl = ["--model", sft, "--max_steps", "2", "--eval_every", "2", "--eval_prompts", "2", "--learning_rate", "0.003", "--response_length", "5"];
        return run switch
        {
            "sft" => ["sft", .. TinyModel, "--eval_prompts", "2", "--max_new_tokens", "4"],
            "rm" => ["rm", .. TinyModel],
            "dpo" => ["dpo", "--model", sft, "--max_steps", "3", "--warmup_steps", "1", "--eval_every", "3", "--eval_prompts", "2", "--max_new_tokens", "4", "--batch_size", "4", "--learning_rate", "0.003"],
            "ppo" => ["ppo", .. rl, "--batch_size", "4", "--reward_model", rm, "--mini_batch_size", "2"],
            "grpo" => ["grpo", .. rl, "--reward_funcs", "[gold]", "--batch_size", "2", "--num_generations", "2", "--mini_batch_size", "4"],
            _ => throw new ArgumentException(run),
        };
    }

    private static List<JsonObject> Metrics(string runDir) =>
        [.. File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject())];

    [Theory]
    [InlineData("sft")]
    [InlineData("rm")]
    [InlineData("dpo")]
    [InlineData("ppo")]
    [InlineData("grpo")]
    public void ATrainerOnTheDeviceEngineMatchesTheCpuEngine(string run)
    {
        var (data, sft, rm) = Setup();
        string[] flags = Flags(run, sft, rm);
        var cpuDir = Path.Combine(_dir, run + "-cpu");
        var devDir = Path.Combine(_dir, run + "-dev");
        var (code, _, err) = CliRun.Run([flags[0], "--data", data, "--out", cpuDir, .. Common, .. flags[1..]]);
        Assert.True(code == 0, $"{run} on the cpu: exit {code}: {err}");
        (code, _, err) = CliRun.Run([flags[0], "--data", data, "--out", devDir, "--device", "cpu-accelerator", .. Common, .. flags[1..]]);
        Assert.True(code == 0, $"{run} on cpu-accelerator: exit {code}: {err}");

        var cpu = Metrics(cpuDir);
        var dev = Metrics(devDir);
        Assert.Equal(cpu.Count, dev.Count);
        bool rl = run.StartsWith("ppo", StringComparison.Ordinal) || run.StartsWith("grpo", StringComparison.Ordinal);
        int compare = rl ? 1 : cpu.Count;
        int checkedValues = 0;
        for (int line = 0; line < compare; line++)
        {
            foreach (var (key, value) in cpu[line])
            {
                if (key.StartsWith("time", StringComparison.Ordinal) || value is null || value.GetValueKind() != System.Text.Json.JsonValueKind.Number)
                    continue;
                double expected = value.GetValue<double>();
                Assert.True(dev[line].ContainsKey(key), $"{run}: line {line} has no {key} on the device");
                double got = dev[line][key]!.GetValue<double>();
                Assert.True(double.IsFinite(got) == double.IsFinite(expected), $"{run}: line {line} {key}: cpu {expected}, device {got}");
                if (!double.IsFinite(expected))
                    continue;
                Assert.True(Math.Abs(got - expected) <= 1e-3 + (2e-3 * Math.Abs(expected)), $"{run}: line {line} {key}: cpu {expected}, device {got}");
                checkedValues++;
            }
        }
        Assert.True(checkedValues >= 3, $"{run}: only {checkedValues} metrics compared");
        Assert.True(File.Exists(Path.Combine(devDir, "model", "model.safetensors")), $"{run}: the device run saved no model");
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(devDir, "summary.json")))!;
        Assert.Equal("cpu-accelerator", summary["device"]!.GetValue<string>());
        Assert.Equal("cpu", JsonNode.Parse(File.ReadAllText(Path.Combine(cpuDir, "summary.json")))!["device"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("cpu-accelerator", "cpu")]
    [InlineData("cpu", "cpu-accelerator")]
    public void ARunResumesOnTheOtherDeviceFromTheSameCheckpoint(string first, string then)
    {
        var (data, _, _) = Setup();
        // A constant learning rate, so a run cut at step 2 and one of 4 steps agree on steps 1-2.
        string[] sft =
        [
            "--data", data, .. Common, .. TinyModel.Where((_, i) => i >= 8), "--batch_size", "4", "--eval_every", "2",
            "--eval_prompts", "0", "--lr_scheduler", "constant", "--warmup_steps", "0", "--save_every", "2",
        ];
        var whole = Path.Combine(_dir, "whole");
        var (code, _, err) = CliRun.Run(["sft", "--out", whole, .. sft, "--max_steps", "4"]);
        Assert.True(code == 0, err);
        var split = Path.Combine(_dir, "split");
        (code, _, err) = CliRun.Run(["sft", "--out", split, .. sft, "--max_steps", "2", "--device", first]);
        Assert.True(code == 0, err);
        (code, _, err) = CliRun.Run(["sft", "--resume", split, "--max_steps", "4", "--device", then]);
        Assert.True(code == 0, $"resume on {then}: {err}");

        var expected = Metrics(whole).Last(m => m.ContainsKey("train/loss"));
        var got = Metrics(split).Last(m => m.ContainsKey("train/loss"));
        Assert.Equal(4, got["step"]!.GetValue<long>());
        double e = expected["train/loss"]!.GetValue<double>(), g = got["train/loss"]!.GetValue<double>();
        Assert.True(Math.Abs(e - g) <= 1e-3 * Math.Abs(e), $"step 4 loss: one run {e}, {first} then {then} {g}");
    }

    [Fact]
    public void AskingForCudaWithoutAGpuIsAClearErrorNotAStackTrace()
    {
        var (data, _, _) = Setup();
        string[] quick = ["--data", data, "--max_steps", "1", "--warmup_steps", "0"];
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad("libcuda.so.1", out var h))
        {
            // The device run has a driver: the same flag with a device number it lacks is the error.
            System.Runtime.InteropServices.NativeLibrary.Free(h);
            var (c, _, e) = CliRun.Run(["sft", "--out", Path.Combine(_dir, "x"), "--device", "cuda:99", .. quick]);
            Assert.Equal(2, c);
            Assert.Contains("cuda:99", e);
            return;
        }
        var (code, _, err) = CliRun.Run(["sft", "--out", Path.Combine(_dir, "x"), "--device", "cuda", .. quick]);
        Assert.Equal(2, code);
        Assert.Contains("libcuda.so.1", err);
        Assert.DoesNotContain("   at ", err);
        var (code2, _, err2) = CliRun.Run(["sft", "--out", Path.Combine(_dir, "y"), "--device", "gpu", .. quick]);
        Assert.Equal(2, code2);
        Assert.Contains("cuda:N", err2);
        var (code3, _, err3) = CliRun.Run(["sft", "--out", Path.Combine(_dir, "z"), "--dtype", "bf16", .. quick]);
        Assert.Equal(2, code3);
        Assert.Contains("GPU device", err3);
    }
}
