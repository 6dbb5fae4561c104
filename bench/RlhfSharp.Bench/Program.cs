using RlhfSharp.Bench;

// Benchmark program: `dotnet run -c Release --project bench/RlhfSharp.Bench -- <verb> [options]`.
// Each verb lives in its own file and prints one JSON object per measured case on stdout.
var verbs = new SortedDictionary<string, Func<BenchArgs, int>>(StringComparer.Ordinal)
{
    ["gemm"] = GemmBench.Run,
    ["gpu"] = GpuBench.Run,
    ["decode"] = DecodeBench.Run,
    ["ops"] = a => OpsBench.Run(a.RawArgs),
    ["train-step"] = TrainStepBench.Run,
    ["generate"] = GenerateBench.Run,
    ["ppo-step"] = PpoStepBench.Run,
    ["peer-check"] = PeerCheckBench.Run,
    ["suite"] = SuiteBench.Run,
    ["dp"] = DataParallelBench.Run,
    ["dp-suite"] = DataParallelBench.Suite,
};

if (args.Length == 0 || args[0] is "-h" or "--help" || !verbs.TryGetValue(args[0], out var verb))
{
    if (args.Length > 0 && args[0] is not ("-h" or "--help"))
        Console.Error.WriteLine($"unknown verb '{args[0]}'");
    Console.Error.WriteLine($"usage: RlhfSharp.Bench <{string.Join('|', verbs.Keys)}> [options]   (each verb takes --help)");
    Console.Error.WriteLine("""

        Whole-model verbs. --vs-torch, peer-check and suite run PyTorch eager (bench/peers/torch_lm.py, Debian's
        python3-torch: sudo sh bench/peers/install.sh) in rounds alternating with ours; ratio = torch ms / our ms
        per round (above 1: ours is faster); one JSON line per case (suite --markdown: the README tables):
        """);
    foreach (var usage in new[] { TrainStepBench.Usage, GenerateBench.Usage, PpoStepBench.Usage, PeerCheckBench.Usage, SuiteBench.Usage })
    {
        foreach (var line in usage.Split('\n'))
            Console.Error.WriteLine("  " + line);
    }
    Console.Error.WriteLine("""
          cases: gpt2-6m, llama-6m (6 layers, width 256, T 128, vocab 4096, batch 8), pipeline (examples/sft.yaml's policy, vocab 512, batch 32, T 64)
        """);
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}

try
{
    return verb(new BenchArgs(args[0], args.AsSpan(1).ToArray()));
}
catch (BenchUsageException e)
{
    Console.Error.WriteLine($"{args[0]}: {e.Message}");
    return 2;
}
catch (PeerOutputException e)
{
    Console.Error.WriteLine($"{args[0]}: {e.Message}");
    return 1;
}
