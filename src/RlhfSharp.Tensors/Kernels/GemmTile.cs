using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RlhfSharp.Tensors.Kernels;

/// <summary>A register-blocked micro-kernel: multiplies one packed A panel by one packed B panel.</summary>
internal interface IMicroKernel
{
    // Rows of C per tile (A panel width).
    static abstract int MR { get; }

    // Columns of C per tile (B panel width).
    static abstract int NR { get; }

    // packed A [kc,MR] · packed B [kc,NR] -> C tile [MR,NR] (row stride ldc):
    // C = alpha·acc when beta == 0 (C is not read), else C = fma(C, beta, alpha·acc).
    static abstract unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta);
}

/// <summary>Edge tiles, the C update rule and the per-thread pack buffers shared by all kernels.</summary>
internal static unsafe class GemmTile
{
    [ThreadStatic]
    private static float[]? _packA;

    [ThreadStatic]
    private static float[]? _packB;

    // The update every kernel applies to one element: alpha·acc, plus beta·old unless beta is 0.
    // Vector kernels do the same with one vector FMA, so edge and full tiles round identically.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Combine(float acc, float old, float alpha, float beta) =>
        beta == 0 ? acc * alpha : MathF.FusedMultiplyAdd(old, beta, acc * alpha);

    // packed A [kc,MR] · packed B [kc,NR] -> C [mr,nr] for a ragged tile (mr <= MR, nr <= NR):
    // the full kernel writes a scratch tile which is then merged element by element.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunEdge<TK>(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr,
        float alpha, float beta, float* scratch) where TK : struct, IMicroKernel
    {
        int width = TK.NR;
        TK.Run(kc, a, b, scratch, width, 1f, 0f);
        for (int i = 0; i < mr; i++)
        {
            float* src = scratch + i * width;
            float* dst = c + i * ldc;
            for (int j = 0; j < nr; j++)
                dst[j] = Combine(src[j], dst[j], alpha, beta);
        }
    }

    // This thread's buffer for packed A (at least `floats`, 64-byte aligned, pinned, reused).
    public static float* PackBufferA(int floats) => Buffer(ref _packA, floats);

    // This thread's buffer for packed B.
    public static float* PackBufferB(int floats) => Buffer(ref _packB, floats);

    private static float* Buffer(ref float[]? buffer, int floats)
    {
        if (buffer is null || buffer.Length < floats + 16)
            buffer = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((p + 63) & ~(nint)63);
    }
}
