namespace RlhfSharp.Bench;

/// <summary>
/// <c>generate</c>: sampling with the KV cache (prefill, then one single-token forward per new
/// token, temperature 1, no EOS) through <see cref="RlhfSharp.Models.Generation.Sampler"/>, on the
/// side-by-side shapes; with <c>--vs-torch</c> next to the PyTorch peer in alternating rounds.
/// </summary>
public static class GenerateBench
{
    public const string Usage =
        "generate [--vs-torch] [--batch 8] [--prompt 16] [--new-tokens 128] " + SideBySide.OptionsUsage + "   (--runs: generations per round, default 3)";

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        bool vsTorch = args.Flag("vs-torch");
        int batch = args.Ints("batch")?[0] ?? 8;
        int prompt = args.Ints("prompt")?[0] ?? 16;
        int newTokens = args.Ints("new-tokens")?[0] ?? 128;
        var o = SideBySide.Parse(args, defaultRuns: 3);
        args.RejectUnknown();
        if (vsTorch)
            TorchPeer.EnsureAvailable();
        foreach (var c in o.Cases)
            SideBySide.Generate(c, o, batch, prompt, newTokens, withPeer: vsTorch).ToJson().WriteLine();
        return 0;
    }
}
