using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>One multiply with its operands pinned: C = alpha·op(A)·op(B) + beta·C.</summary>
internal readonly unsafe struct GemmJob
{
    public required nint A { get; init; }
    public required nint B { get; init; }
    public required bool BIsBf16 { get; init; }
    public required nint C { get; init; }
    public required int Lda { get; init; }
    public required int Ldb { get; init; }
    public required int Ldc { get; init; }
    public required bool TransA { get; init; }
    public required bool TransB { get; init; }
    public required int M { get; init; }
    public required int N { get; init; }
    public required int K { get; init; }
    public required float Alpha { get; init; }
    public required float Beta { get; init; }
}

public static partial class Gemm
{
    // The driver and packing run few times per call, too few for tiered compilation to optimise
    // them before a training step is over, so they (and the kernels) are compiled fully at once.

    // Cache blocking (floats). KC: depth of one packed panel pair; a KC×NR panel of B (32 KiB) stays
    // in the 48 KiB L1 while A panels stream past it. MC: rows of A packed at once; MC×KC (384 KiB)
    // sits in the 2 MiB L2. NC: columns of B packed at once (KC×NC = 3 MiB, streamed from L3).
    internal static int KC { get; set; } = 256;
    internal static int MC { get; set; } = 384;
    internal static int NC { get; set; } = 3072;

    // Below this many multiply-adds (m·n·k) a call runs on the calling thread alone.
    internal const long ParallelThreshold = 1L << 17;

    // Batched calls whose matrices are smaller than this run whole matrices per thread.
    internal const long BatchParallelThreshold = 1L << 22;

    private static GemmIsa ResolveIsa()
    {
        if (_forceIsa != GemmIsa.Auto)
            return _forceIsa;
        if (Vector512.IsHardwareAccelerated)
            return GemmIsa.Vector512;
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            return GemmIsa.Vector256;
        return GemmIsa.Scalar;
    }

    private static unsafe void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, ReadOnlySpan<ushort> bBf16, int ldb,
        float beta, Span<float> c, int ldc, int threads)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (ushort* pbh = bBf16)
        fixed (float* pc = c)
        {
            var job = new GemmJob
            {
                A = (nint)pa,
                B = bBf16.IsEmpty ? (nint)pb : (nint)pbh,
                BIsBf16 = !bBf16.IsEmpty,
                C = (nint)pc,
                Lda = lda,
                Ldb = ldb,
                Ldc = ldc,
                TransA = transA,
                TransB = transB,
                M = m,
                N = n,
                K = k,
                Alpha = alpha,
                Beta = beta,
            };
            Compute(job, ResolveIsa(), threads);
        }
    }

    private static unsafe void MultiplyBatched(bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        if (batch == 0 || m == 0 || n == 0)
            return;
        int threads = Engine.Threads;
        GemmIsa isa = ResolveIsa();
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var first = new GemmJob
            {
                A = (nint)pa,
                B = (nint)pb,
                BIsBf16 = false,
                C = (nint)pc,
                Lda = lda,
                Ldb = ldb,
                Ldc = ldc,
                TransA = transA,
                TransB = transB,
                M = m,
                N = n,
                K = k,
                Alpha = alpha,
                Beta = beta,
            };
            if (threads > 1 && batch > 1 && (long)m * n * k < BatchParallelThreshold)
            {
                // Small matrices: whole matrices per thread (each one computed exactly as a
                // single-threaded call would, so the result does not depend on the split).
                BatchParallel(first, batch, strideA, strideB, strideC, isa, threads);
                return;
            }
            for (int i = 0; i < batch; i++)
                Compute(Nth(first, i, strideA, strideB, strideC), isa, threads);
        }
    }

    // The i-th matrix of a batch: the first one's job with A, B and C moved on by i strides.
    private static GemmJob Nth(in GemmJob first, int i, long strideA, long strideB, long strideC) => first with
    {
        A = first.A + (nint)(i * strideA * sizeof(float)),
        B = first.B + (nint)(i * strideB * sizeof(float)),
        C = first.C + (nint)(i * strideC * sizeof(float)),
    };

    private static void BatchParallel(GemmJob first, int batch, long strideA, long strideB, long strideC, GemmIsa isa, int threads) =>
        StructLoop<BatchRuns>.RunChunks(batch, threads, new BatchRuns(first, strideA, strideB, strideC, isa));

    // Matrices [start, end) of a batch, each on one thread.
    private readonly struct BatchRuns(GemmJob first, long strideA, long strideB, long strideC, GemmIsa isa) : IChunkBody
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
                Compute(Nth(first, i, strideA, strideB, strideC), isa, 1);
        }
    }

    private static void Compute(in GemmJob job, GemmIsa isa, int threads)
    {
        if (job.M == 0 || job.N == 0)
            return;
        if (job.K == 0 || job.Alpha == 0)
        {
            ScaleC(job);
            return;
        }
        if (isa != GemmIsa.Scalar && TrySkinny(job, threads))
            return;
        switch (isa)
        {
            case GemmIsa.Vector512:
                Split<GemmKernel512>(job, threads);
                break;
            case GemmIsa.Vector256:
                Split<GemmKernel256>(job, threads);
                break;
            default:
                Split<GemmKernelScalar>(job, threads);
                break;
        }
    }

    // C = beta·C (or 0 when beta is 0), for k == 0 or alpha == 0.
    private static unsafe void ScaleC(in GemmJob job)
    {
        for (int i = 0; i < job.M; i++)
        {
            var row = new Span<float>((float*)job.C + (nint)i * job.Ldc, job.N);
            if (job.Beta == 0)
                row.Clear();
            else
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, job.Beta, row);
        }
    }

    // Splits C over threads: contiguous runs of whole MR-row tiles, or of NR-column tiles, whichever
    // costs the busiest thread less. A row split makes every thread pack all of B, a column split
    // all of A; packing that transposes (A not transposed, B transposed) costs about one multiply-add
    // lane-cycle per element, ~32 multiply-adds, a contiguous copy ~4. Tile boundaries never move,
    // so the split does not change any result bit.
    private static void Split<TK>(GemmJob job, int threads) where TK : struct, IMicroKernel
    {
        int m = job.M, n = job.N, k = job.K;
        if (threads <= 1 || (long)m * n * k < ParallelThreshold)
        {
            Block<TK>(job, 0, m, 0, n);
            return;
        }
        int mTiles = (m + TK.MR - 1) / TK.MR;
        int nTiles = (n + TK.NR - 1) / TK.NR;
        int mChunks = ParallelFor.ChunkCount(mTiles, threads);
        int nChunks = ParallelFor.ChunkCount(nTiles, threads);
        long rowsPerThread = Math.Min(m, (long)(mTiles + mChunks - 1) / mChunks * TK.MR);
        long colsPerThread = Math.Min(n, (long)(nTiles + nChunks - 1) / nChunks * TK.NR);
        long packA = job.TransA ? 4 : 32, packB = job.TransB ? 32 : 4;
        long byRows = rowsPerThread * n * k + packB * n * k + packA * rowsPerThread * k;
        long byCols = colsPerThread * m * k + packA * m * k + packB * colsPerThread * k;
        SplitParallel<TK>(job, threads, byRows <= byCols, byRows <= byCols ? mTiles : nTiles);
    }

    // The parallel half of Split: contiguous runs of MR-row tiles, or of NR-column tiles, per chunk.
    private static void SplitParallel<TK>(GemmJob job, int threads, bool byRows, int tiles) where TK : struct, IMicroKernel =>
        StructLoop<TileRuns<TK>>.RunChunks(tiles, threads, new TileRuns<TK>(job, byRows));

    // Tiles [s, e) of C: rows s·MR.. or columns s·NR.., clipped to C.
    private readonly struct TileRuns<TK>(GemmJob job, bool byRows) : IChunkBody where TK : struct, IMicroKernel
    {
        public void Run(int s, int e)
        {
            if (byRows)
                Block<TK>(job, s * TK.MR, Math.Min(job.M, e * TK.MR), 0, job.N);
            else
                Block<TK>(job, 0, job.M, s * TK.NR, Math.Min(job.N, e * TK.NR));
        }
    }

    // C[i0:i1, j0:j1] on the calling thread: the five GotoBLAS loops around the micro-kernel.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Block<TK>(in GemmJob job, int i0, int i1, int j0, int j1)
        where TK : struct, IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        int kcMax = Math.Min(KC, job.K);
        int mcMax = RoundUp(Math.Min(MC, i1 - i0), mr);
        int ncMax = RoundUp(Math.Min(NC, j1 - j0), nr);
        float* packA = GemmTile.PackBufferA(mcMax * kcMax);
        float* packB = GemmTile.PackBufferB(ncMax * kcMax);
        float* scratch = stackalloc float[mr * nr];
        float* a = (float*)job.A;
        float* c = (float*)job.C;
        for (int jc = j0; jc < j1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, j1 - jc);
            for (int pc = 0; pc < job.K; pc += kcMax)
            {
                int kc = Math.Min(kcMax, job.K - pc);
                float beta = pc == 0 ? job.Beta : 1f;
                if (job.BIsBf16)
                    GemmPack.PackB((ushort*)job.B, job.Ldb, job.TransB, jc, nc, pc, kc, nr, packB);
                else
                    GemmPack.PackB((float*)job.B, job.Ldb, job.TransB, jc, nc, pc, kc, nr, packB);
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    GemmPack.PackA(a, job.Lda, job.TransA, ic, mc, pc, kc, mr, packA);
                    Macro<TK>(kc, mc, nc, packA, packB, c + (nint)ic * job.Ldc + jc, job.Ldc, job.Alpha, beta, scratch);
                }
            }
        }
    }

    // packed A [mc,kc] · packed B [kc,nc] -> C [mc,nc]: the two loops over register tiles.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Macro<TK>(int kc, int mc, int nc, float* packA, float* packB, float* c, nint ldc,
        float alpha, float beta, float* scratch) where TK : struct, IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int ncols = Math.Min(nr, nc - jr);
            float* bp = packB + (nint)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int nrows = Math.Min(mr, mc - ir);
                float* ap = packA + (nint)ir * kc;
                float* ct = c + ir * ldc + jr;
                if (nrows == mr && ncols == nr)
                    TK.Run(kc, ap, bp, ct, ldc, alpha, beta);
                else
                    GemmTile.RunEdge<TK>(kc, ap, bp, ct, ldc, nrows, ncols, alpha, beta, scratch);
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
