using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Gpu;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Bench;

/// <summary>
/// The GPU engine on a Qwen2-0.5B-shaped model with random weights (hidden 896, 24 layers, 14
/// heads / 2 KV heads, intermediate 4864, vocab 151936): a training step at sequence 1024 (tokens/s
/// and MFU = 6·params·tokens/s ÷ peak) and greedy KV-cache generation at batch 64 (tokens/s and the
/// fraction of the HBM-bandwidth bound), with the transfers each makes; with --vs-torch the PyTorch
/// eager peer (bench/peers/torch_gpu.py) runs the same shapes in the same call and each line gets
/// the ratio (ours ÷ peer speed). --preset tiny shrinks everything for a check on the CPU accelerator.
/// </summary>
public static class GpuBench
{
    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine("gpu [--device cuda|cpu-accelerator] [--preset qwen2-0.5b|tiny] [--dtype bf16|fp32] [--batch 1] [--seq 1024] [--gen_batch 64] [--prompt 16] [--new_tokens 128] [--runs 3] [--peak_tflops 989] [--hbm_tbs 4.8] [--vs-torch] [--python python3]");
            return 0;
        }
        var device = Device.Parse(args.String("device") ?? "cuda");
        string preset = args.String("preset") ?? "qwen2-0.5b";
        string dtype = args.String("dtype") ?? "bf16";
        bool tiny = preset == "tiny";
        int batch = args.Ints("batch")?[0] ?? 1;
        int seq = args.Ints("seq")?[0] ?? (tiny ? 32 : 1024);
        int genBatch = args.Ints("gen_batch")?[0] ?? (tiny ? 4 : 64);
        int prompt = args.Ints("prompt")?[0] ?? 16;
        int newTokens = args.Ints("new_tokens")?[0] ?? (tiny ? 8 : 128);
        int runs = args.Ints("runs")?[0] ?? 3;
        double peakTflops = double.Parse(args.String("peak_tflops") ?? "989", CultureInfo.InvariantCulture);
        double hbmTbs = double.Parse(args.String("hbm_tbs") ?? "4.8", CultureInfo.InvariantCulture);
        bool vsTorch = args.Flag("vs-torch");
        string python = args.String("python") ?? "python3";
        args.RejectUnknown();
        if (preset is not ("qwen2-0.5b" or "tiny"))
            throw new BenchUsageException($"--preset must be qwen2-0.5b or tiny, got '{preset}'");

        var cfg = tiny
            ? new ModelConfig { ModelType = "qwen2", VocabSize = 512, HiddenSize = 64, NumLayers = 2, NumHeads = 4, NumKeyValueHeads = 2, IntermediateSize = 128, MaxPositions = seq + prompt + newTokens, RopeTheta = 1e6f, AttentionBias = true, TieWordEmbeddings = true, HiddenAct = "silu" }
            : new ModelConfig { ModelType = "qwen2", VocabSize = 151936, HiddenSize = 896, NumLayers = 24, NumHeads = 14, NumKeyValueHeads = 2, IntermediateSize = 4864, MaxPositions = seq + prompt + newTokens, RopeTheta = 1e6f, AttentionBias = true, TieWordEmbeddings = true, HiddenAct = "silu" };

        var engine = GpuEngine.Use(device);
        engine.BFloat16Matmul = dtype == "bf16";
        var model = new CausalLM(cfg, new Generator(1));
        model.To(device);
        long parameters = model.ParameterCount();
        var opt = new AdamW(model.TrainableParameters(), lr: 1e-4f);
        var ids = new Generator(2).Uniform([batch, seq], 0, cfg.VocabSize - 1).ToInt32().To(device);
        var targets = ids.Narrow(1, 1, seq - 1).Contiguous().Reshape(-1);
        long transfers = 0;
        float lastLoss = 0;
        void Step()
        {
            DeviceTransfers.Reset();
            opt.ZeroGrad();
            var logits = model.Forward(ids);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, seq - 1).Reshape(-1, cfg.VocabSize), targets);
            loss.Backward();
            opt.Step();
            lastLoss = loss.Item(); // the step's one read-back, which also waits for the device
            transfers = DeviceTransfers.Total;
        }
        var train = Measure(Step, runs);
        long tokens = (long)batch * seq;
        double trainTps = tokens / (train.MedianMs / 1000);
        var trainLine = new JsonObject
        {
            ["case"] = "gpu_train_step",
            ["device"] = engine.Name,
            ["dtype"] = dtype,
            ["params"] = parameters,
            ["batch"] = batch,
            ["seq"] = seq,
            ["ms"] = Round(train.MedianMs),
            ["best_ms"] = Round(train.BestMs),
            ["tokens_per_s"] = Round(trainTps),
            ["mfu"] = Round(6.0 * parameters * trainTps / (peakTflops * 1e12), 5),
            ["transfers_per_step"] = transfers,
            ["loss"] = Round(lastLoss),
        };

        model.Eval();
        var promptIds = new Generator(3).Uniform([genBatch, prompt], 0, cfg.VocabSize - 1).ToInt32();
        var promptMask = Tensor.Ones(genBatch, prompt);
        var options = new GenerationOptions { MaxNewTokens = newTokens, DoSample = false };
        long genTransfers = 0;
        void Generate()
        {
            DeviceTransfers.Reset();
            Sampler.Generate(model, promptIds, promptMask, options, new Generator(4));
            genTransfers = DeviceTransfers.Total;
        }
        var gen = Measure(Generate, runs);
        double genTps = (double)genBatch * newTokens / (gen.MedianMs / 1000);
        // Bound: every decode step reads the weights once (bf16) and each row's KV cache (bf16, mean length).
        double kvBytesPerRow = 2.0 * cfg.NumLayers * cfg.NumKeyValueHeads * cfg.HeadDim * 2 * (prompt + (newTokens / 2.0));
        double bytesPerStep = (parameters * 2.0) + (genBatch * kvBytesPerRow);
        double boundTps = genBatch / (bytesPerStep / (hbmTbs * 1e12));
        var genLine = new JsonObject
        {
            ["case"] = "gpu_generate",
            ["device"] = engine.Name,
            ["dtype"] = dtype,
            ["batch"] = genBatch,
            ["prompt"] = prompt,
            ["new_tokens"] = newTokens,
            ["ms"] = Round(gen.MedianMs),
            ["best_ms"] = Round(gen.BestMs),
            ["tokens_per_s"] = Round(genTps),
            ["hbm_bound_fraction"] = Round(genTps / boundTps, 5),
            ["transfers_per_token"] = Round((double)genTransfers / newTokens, 2),
        };

        if (vsTorch)
        {
            var peer = RunPeer(python, cfg, batch, seq, genBatch, prompt, newTokens, runs, dtype);
            if (peer.TryGetValue("gpu_train_step", out var pt))
            {
                trainLine["torch_tokens_per_s"] = pt["tokens_per_s"]!.DeepClone();
                trainLine["torch_mfu"] = pt["mfu"]!.DeepClone();
                trainLine["ratio"] = Round(trainTps / pt["tokens_per_s"]!.GetValue<double>(), 4);
            }
            if (peer.TryGetValue("gpu_generate", out var pg))
            {
                genLine["torch_tokens_per_s"] = pg["tokens_per_s"]!.DeepClone();
                genLine["ratio"] = Round(genTps / pg["tokens_per_s"]!.GetValue<double>(), 4);
            }
        }
        Console.WriteLine(trainLine.ToJsonString());
        Console.WriteLine(genLine.ToJsonString());
        return 0;
    }

    private static double Round(double v, int digits = 3) => Math.Round(v, digits);

    // One warm-up run (kernel compilation, cuBLAS set-up), then the median of the timed runs.
    private static Timings Measure(Action action, int runs)
    {
        action();
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return new Timings(times[0], times[times.Count / 2], runs);
    }

    private static Dictionary<string, JsonObject> RunPeer(string python, ModelConfig cfg, int batch, int seq, int genBatch, int prompt, int newTokens, int runs, string dtype)
    {
        string script = Path.Combine(TorchPeer.PeersDirectory(), "torch_gpu.py");
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            script, "--vocab", $"{cfg.VocabSize}", "--hidden", $"{cfg.HiddenSize}", "--layers", $"{cfg.NumLayers}", "--heads", $"{cfg.NumHeads}",
            "--kv_heads", $"{cfg.NumKeyValueHeads}", "--intermediate", $"{cfg.IntermediateSize}", "--batch", $"{batch}", "--seq", $"{seq}",
            "--gen_batch", $"{genBatch}", "--prompt", $"{prompt}", "--new_tokens", $"{newTokens}", "--runs", $"{runs}", "--dtype", dtype,
        })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new BenchUsageException($"cannot start {python}");
        string output = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new BenchUsageException($"the PyTorch peer failed (exit {p.ExitCode}): {err.Trim()}");
        var result = new Dictionary<string, JsonObject>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var o = JsonNode.Parse(line)!.AsObject();
            result[o["case"]!.GetValue<string>()] = o;
        }
        return result;
    }
}
