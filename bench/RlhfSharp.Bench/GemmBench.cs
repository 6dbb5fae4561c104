using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Bench;

/// <summary>
/// `gemm`: times Gemm.Sgemm (C = A·B, alpha 1, beta 0) on square and transformer-shaped cases and,
/// with --vs-torch, the same cases in PyTorch (OpenBLAS) for a ratio.
/// </summary>
public static class GemmBench
{
    // op(A) [M,K] · op(B) [K,N]; Trans is "NN", "NT", "TN" or "TT" (A's flag first).
    private readonly record struct Case(int M, int N, int K, string Trans)
    {
        public bool TransA => Trans[0] == 'T';
        public bool TransB => Trans[1] == 'T';
    }

    private const string Usage =
        "gemm [--m M --n N --k K] [--trans NN|NT|TN|TT] [--threads T[,T...]] [--bf16] [--vs-torch] [--rounds R]\n" +
        "  [--kc KC --mc MC --nc NC]\n" +
        "  times C[M,N] = op(A)[M,K]·op(B)[K,N]; one JSON line per case with the best of several runs\n" +
        "  (after warm-up) as ms/gflops and the median as ms_median. With no sizes: 256^3, 512^3, 1024^3,\n" +
        "  2048^3 and transformer shapes (512x3072x768 NN and NT, 768x3072x512 TN).\n" +
        "  --bf16 stores B in bfloat16 (SgemmBf16B). --vs-torch also runs bench/peers/torch_gemm.py, alternating\n" +
        "  with ours for --rounds rounds (default 3 with --vs-torch, else 1); each side reports its best round.\n" +
        "  --kc/--mc/--nc override the cache blocking (for tuning).";

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        int[]? ms = args.Ints("m"), ns = args.Ints("n"), ks = args.Ints("k");
        string trans = (args.String("trans") ?? "NN").ToUpperInvariant();
        int[] threadCounts = args.Ints("threads") ?? [Engine.Threads];
        bool bf16 = args.Flag("bf16");
        bool vsTorch = args.Flag("vs-torch");
        int[]? kc = args.Ints("kc"), mc = args.Ints("mc"), nc = args.Ints("nc");
        int rounds = args.Ints("rounds")?[0] ?? (vsTorch ? 3 : 1);
        args.RejectUnknown();
        if (kc is not null)
            Gemm.KC = kc[0];
        if (mc is not null)
            Gemm.MC = mc[0];
        if (nc is not null)
            Gemm.NC = nc[0];
        if (trans is not ("NN" or "NT" or "TN" or "TT"))
            throw new BenchUsageException($"--trans must be NN, NT, TN or TT, got '{trans}'");

        List<Case> cases;
        if (ms is null && ns is null && ks is null)
        {
            cases =
            [
                new(256, 256, 256, "NN"),
                new(512, 512, 512, "NN"),
                new(1024, 1024, 1024, "NN"),
                new(2048, 2048, 2048, "NN"),
                new(512, 3072, 768, "NN"),
                new(512, 3072, 768, "NT"),
                new(768, 3072, 512, "TN"),
            ];
        }
        else
        {
            if (ms is null || ns is null || ks is null)
                throw new BenchUsageException("give all of --m, --n and --k (or none for the default set)");
            if (ms.Length != ns.Length || ms.Length != ks.Length)
                throw new BenchUsageException("--m, --n and --k lists must have the same length");
            cases = [.. ms.Select((m, i) => new Case(m, ns[i], ks[i], trans))];
        }

        if (vsTorch)
            TorchPeer.EnsureAvailable();

        int saved = Engine.Threads;
        try
        {
            foreach (int threads in threadCounts)
            {
                Engine.Threads = threads;
                foreach (var c in cases)
                {
                    // Rounds alternate ours and the peer so both get a chance at a quiet machine;
                    // each side reports its best round.
                    Timings ours = default;
                    PeerResult torch = default;
                    for (int r = 0; r < rounds; r++)
                    {
                        Timings t = TimeOurs(c, bf16);
                        if (r == 0 || t.BestMs < ours.BestMs)
                            ours = t;
                        if (vsTorch)
                        {
                            PeerResult p = TorchPeer.RunGemm(c.M, c.N, c.K, c.Trans, threads);
                            if (r == 0 || p.BestMs < torch.BestMs)
                                torch = p;
                        }
                    }
                    var line = new JsonLine()
                        .Add("case", "gemm")
                        .Add("m", c.M).Add("n", c.N).Add("k", c.K)
                        .Add("trans", c.Trans)
                        .Add("threads", threads);
                    if (bf16)
                        line.Add("b", "bf16");
                    line.Add("gflops", GFlops(c, ours.BestMs), 1)
                        .Add("ms", ours.BestMs)
                        .Add("ms_median", ours.MedianMs)
                        .Add("runs", ours.Runs);
                    if (vsTorch)
                    {
                        line.Add("torch_gflops", GFlops(c, torch.BestMs), 1)
                            .Add("torch_ms", torch.BestMs)
                            .Add("torch_ms_median", torch.MedianMs)
                            .Add("ratio", torch.BestMs / ours.BestMs)
                            .Add("torch_blas", torch.Blas);
                    }
                    line.Add("rounds", rounds).Add("stat", "best").WriteLine();
                }
            }
        }
        finally
        {
            Engine.Threads = saved;
        }
        return 0;
    }

    private static double GFlops(Case c, double ms) => 2.0 * c.M * c.N * c.K / (ms * 1e6);

    private static Timings TimeOurs(Case c, bool bf16)
    {
        var rng = new Random(1234);
        float[] a = Fill(rng, (long)c.M * c.K);
        float[] b = Fill(rng, (long)c.K * c.N);
        ushort[] bh = bf16 ? [.. b.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))] : [];
        float[] cm = new float[(long)c.M * c.N];
        int lda = c.TransA ? c.M : c.K;
        int ldb = c.TransB ? c.K : c.N;
        Action run = bf16
            ? () => Gemm.SgemmBf16B(c.TransA, c.TransB, c.M, c.N, c.K, 1f, a, lda, bh, ldb, 0f, cm, c.N)
            : () => Gemm.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1f, a, lda, b, ldb, 0f, cm, c.N);
        return Timings.Measure(run);
    }

    private static float[] Fill(Random rng, long count)
    {
        var x = new float[count];
        for (long i = 0; i < count; i++)
            x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }
}
