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
