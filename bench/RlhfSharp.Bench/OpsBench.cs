using System.Diagnostics;
using System.Globalization;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Bench;

/// <summary>
/// <c>ops</c> verb: times the forward and the backward of the fused functional ops on fixed shapes
/// and prints one JSON object per case. Backward is timed by calling the op's recorded backward
/// directly, so leaf-gradient accumulation is not counted. Options: --threads N, --repeat N,
/// --warmup N, --case NAME (repeatable).
/// </summary>
public static class OpsBench
{
    private sealed record Case(string Name, string Shape, Func<Generator, (Func<Tensor> Forward, Tensor Grad)> Setup);

    public static int Run(string[] args)
    {
        int repeat = 7, warmup = 2;
        var only = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"ops: {args[i]} needs a value");
            switch (args[i])
            {
                case "--threads":
                    Engine.Threads = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--repeat":
                    repeat = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--warmup":
                    warmup = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--case":
                    only.Add(Next());
                    break;
                default:
                    Console.Error.WriteLine($"ops: unknown option '{args[i]}'; known: --threads N, --repeat N, --warmup N, --case NAME");
                    return 2;
            }
        }
        foreach (var c in Cases())
        {
            if (only.Count > 0 && !only.Contains(c.Name))
                continue;
            var (fwd, bwd, fwdMin, bwdMin) = Time(c, repeat, warmup);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"case\":\"{c.Name}\",\"impl\":\"rlhfsharp\",\"shape\":\"{c.Shape}\",\"threads\":{Engine.Threads},\"fwd_ms\":{fwd:F3},\"bwd_ms\":{bwd:F3},\"fwd_ms_min\":{fwdMin:F3},\"bwd_ms_min\":{bwdMin:F3}}}"));
        }
        return 0;
    }

    private static Tensor Param(Generator g, params int[] shape)
    {
        var t = g.Normal(shape);
        t.RequiresGrad = true;
        return t;
    }

    private static IEnumerable<Case> Cases()
    {
        yield return new("softmax", "[4096,1024]", g =>
        {
            var x = Param(g, 4096, 1024);
            return (() => F.Softmax(x), g.Normal([4096, 1024]));
        });
        yield return new("layer_norm", "[4096,1024]", g =>
        {
            var (x, w, b) = (Param(g, 4096, 1024), Param(g, 1024), Param(g, 1024));
            return (() => F.LayerNorm(x, w, b), g.Normal([4096, 1024]));
        });
        yield return new("attention", "B=4,H=12,T=256,D=64,causal", g =>
        {
            var (q, k, v) = (Param(g, 4, 12, 256, 64), Param(g, 4, 12, 256, 64), Param(g, 4, 12, 256, 64));
            return (() => F.ScaledDotProductAttention(q, k, v, causal: true), g.Normal([4, 12, 256, 64]));
        });
        // The pipeline policy's attention (examples/sft.yaml: 4 heads over 2 kv heads, head dim 32, T 64, batch 32)
        yield return new("attention_pipeline", "B=32,H=4,Hkv=2,T=64,D=32,causal", g =>
        {
            var (q, k, v) = (Param(g, 32, 4, 64, 32), Param(g, 32, 2, 64, 32), Param(g, 32, 2, 64, 32));
            return (() => F.ScaledDotProductAttention(q, k, v, causal: true), g.Normal([32, 4, 64, 32]));
        });
        // The 6M bench models' attention (8 heads, head dim 32, T 128, batch 8)
        yield return new("attention_6m", "B=8,H=8,T=128,D=32,causal", g =>
        {
            var (q, k, v) = (Param(g, 8, 8, 128, 32), Param(g, 8, 8, 128, 32), Param(g, 8, 8, 128, 32));
            return (() => F.ScaledDotProductAttention(q, k, v, causal: true), g.Normal([8, 8, 128, 32]));
        });
        yield return new("cross_entropy", "[2048,8192]", g =>
        {
            var logits = Param(g, 2048, 8192);
            var targets = Tensor.FromArray(Enumerable.Range(0, 2048).Select(_ => g.NextInt(8192)).ToArray(), 2048);
            return (() => F.CrossEntropy(logits, targets), Tensor.Scalar(1f));
        });
        yield return new("token_log_probs", "[8,256,8192]", g =>
        {
            var logits = Param(g, 8, 256, 8192);
            var ids = Tensor.FromArray(Enumerable.Range(0, 8 * 256).Select(_ => g.NextInt(8192)).ToArray(), 8, 256);
            return (() => F.TokenLogProbs(logits, ids), g.Normal([8, 256]));
        });
    }

    private static (double Fwd, double Bwd, double FwdMin, double BwdMin) Time(Case c, int repeat, int warmup)
    {
        var (forward, grad) = c.Setup(new Generator(1));
        var fwd = new List<double>();
        var bwd = new List<double>();
        for (int i = 0; i < warmup + repeat; i++)
        {
            // One storage scope per iteration, as the trainers' step loop opens one per step.
            using var scope = TensorArena.Step();
            var sw = Stopwatch.StartNew();
            var y = forward();
            double f = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            y.GradFn!.BackwardFn!(grad);
            double b = sw.Elapsed.TotalMilliseconds;
            if (i >= warmup)
            {
                fwd.Add(f);
                bwd.Add(b);
            }
        }
        return (Median(fwd), Median(bwd), fwd.Min(), bwd.Min());
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[(xs.Count / 2) - 1] + xs[xs.Count / 2]) / 2;
    }
}
