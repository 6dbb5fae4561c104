using System.Diagnostics;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Bench;

/// <summary>
/// Cost of one generated token as the context grows, with the KV cache (one single-token forward
/// per step) and without it (a full forward over the whole context per step), on a small
/// Llama-shaped model with random weights.
/// </summary>
public static class DecodeBench
{
    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine("decode [--contexts 64,256,512,1024] [--tokens 16] [--threads T] [--no-baseline]: ms per generated token with and without the KV cache");
            return 0;
        }
        var contexts = args.Ints("contexts") ?? [64, 256, 512, 1024];
        int tokens = args.Ints("tokens")?[0] ?? 16;
        int threads = args.Ints("threads")?[0] ?? Engine.Threads;
        bool baseline = !args.Flag("no-baseline");
        args.RejectUnknown();
        Engine.Threads = threads;

        var cfg = new ModelConfig
        {
            ModelType = "llama",
            VocabSize = 4096,
            HiddenSize = 256,
            NumLayers = 4,
            NumHeads = 8,
            NumKeyValueHeads = 2,
            IntermediateSize = 704,
            MaxPositions = contexts.Max() + tokens,
        };
        var model = new CausalLM(cfg, new Generator(1));
        model.Freeze();
        var rng = new Generator(2);
        // Warm-up: let the JIT compile every path (prefill, decode, sampling) before timing.
        var warm = rng.Uniform([1, contexts[0]], 0, cfg.VocabSize - 1).ToInt32();
        for (int i = 0; i < 3; i++)
            Sampler.Generate(model, warm, Tensor.Ones(1, contexts[0]), new GenerationOptions { MaxNewTokens = tokens, DoSample = false }, rng);
        foreach (var context in contexts)
        {
            var prompt = rng.Uniform([1, context], 0, cfg.VocabSize - 1).ToInt32();
            var mask = Tensor.Ones(1, context);
            var opts = new GenerationOptions { MaxNewTokens = tokens, DoSample = false };
            Sampler.Generate(model, prompt, mask, opts with { MaxNewTokens = 2 }, rng); // warm-up
            var cached = Timings.Measure(() => Sampler.Generate(model, prompt, mask, opts, rng), minRuns: 3, maxRuns: 10);
            // The prefill is part of each run; time it alone and subtract it.
            var prefill = Timings.Measure(() => Sampler.Generate(model, prompt, mask, opts with { MaxNewTokens = 1 }, rng), minRuns: 3, maxRuns: 10);
            double perToken = (cached.MedianMs - prefill.MedianMs) / (tokens - 1);
            var line = new JsonLine()
                .Add("case", "decode")
                .Add("context", context)
                .Add("tokens", tokens)
                .Add("threads", threads)
                .Add("params", model.ParameterCount())
                .Add("ms_per_token_cached", perToken)
                .Add("prefill_ms", prefill.MedianMs);
            if (baseline)
            {
                // Without a cache each new token needs a forward over the whole context.
                var noCache = Timings.Measure(() =>
                {
                    using var _ = GradMode.NoGrad();
                    model.Forward(prompt, mask);
                }, minRuns: 3, maxRuns: 10);
                line.Add("ms_per_token_no_cache", noCache.MedianMs);
            }
            line.WriteLine();
        }
        return 0;
    }
}
