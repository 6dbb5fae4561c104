namespace RlhfSharp.Tensors.Kernels;

/// <summary>Which micro-kernel the GEMM uses; <see cref="Auto"/> picks the widest the CPU accelerates.</summary>
internal enum GemmIsa
{
    Auto,
    Vector512,
    Vector256,
    Scalar,
}

/// <summary>
/// Single-precision matrix multiply, row-major, BLAS semantics:
/// C = alpha * op(A) * op(B) + beta * C. Operands are packed into cache-sized panels (the packing
/// reads transposed operands in place), multiplied by a register-blocked FMA micro-kernel, and the
/// work is split over <see cref="Engine.Threads"/> by a fixed partition of C. Every element of C is
/// computed by one thread with the same K order whatever the thread count, so results are
/// bit-identical run to run and across thread counts (for a given micro-kernel width).
/// </summary>
public static partial class Gemm
{
    [ThreadStatic]
    private static GemmIsa _forceIsa;

    /// <summary>Micro-kernel override for tests and benchmarks; per calling thread.</summary>
    internal static GemmIsa ForceIsa
    {
        get => _forceIsa;
        set => _forceIsa = value;
    }

    // op(A) [m,k] · op(B) [k,n] -> C [m,n]   (C = alpha·op(A)·op(B) + beta·C)
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        const string op = "Sgemm";
        CheckDims(op, m, n, k);
        CheckMatrix(op, "A", transA ? k : m, transA ? m : k, lda, a.Length, 1, 0, "floats");
        CheckMatrix(op, "B", transB ? n : k, transB ? k : n, ldb, b.Length, 1, 0, "floats");
        CheckMatrix(op, "C", m, n, ldc, c.Length, 1, 0, "floats");
        Multiply(transA, transB, m, n, k, alpha, a, lda, b, ReadOnlySpan<ushort>.Empty, ldb, beta, c, ldc, Engine.Threads);
    }

    // op(A) [m,k] · op(B) [k,n] (B in bfloat16) -> C [m,n]   (C = alpha·op(A)·op(B) + beta·C)
    public static void SgemmBf16B(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<ushort> b, int ldb, float beta, Span<float> c, int ldc)
    {
        const string op = "SgemmBf16B";
        CheckDims(op, m, n, k);
        CheckMatrix(op, "A", transA ? k : m, transA ? m : k, lda, a.Length, 1, 0, "floats");
        CheckMatrix(op, "B", transB ? n : k, transB ? k : n, ldb, b.Length, 1, 0, "bf16 values");
        CheckMatrix(op, "C", m, n, ldc, c.Length, 1, 0, "floats");
        Multiply(transA, transB, m, n, k, alpha, a, lda, ReadOnlySpan<float>.Empty, b, ldb, beta, c, ldc, Engine.Threads);
    }

    // op(A) [batch,m,k] · op(B) [batch,k,n] -> C [batch,m,n]; matrix i starts at i·stride (stride 0
    // broadcasts one matrix to the whole batch; C's stride must not be 0 when batch > 1).
    public static void SgemmBatched(bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        const string op = "SgemmBatched";
        if (batch < 0)
            throw new ArgumentException($"{op}: batch must be non-negative, got {batch} (m={m}, n={n}, k={k})");
        CheckDims(op, m, n, k);
        CheckStride(op, "A", strideA);
        CheckStride(op, "B", strideB);
        CheckStride(op, "C", strideC);
        if (batch > 1 && strideC == 0 && m > 0 && n > 0)
            throw new ArgumentException($"{op}: strideC is 0 with batch={batch}; every matrix of C needs its own storage");
        CheckMatrix(op, "A", transA ? k : m, transA ? m : k, lda, a.Length, batch, strideA, "floats");
        CheckMatrix(op, "B", transB ? n : k, transB ? k : n, ldb, b.Length, batch, strideB, "floats");
        CheckMatrix(op, "C", m, n, ldc, c.Length, batch, strideC, "floats");
        MultiplyBatched(transA, transB, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC);
    }

    private static void CheckDims(string op, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"{op}: sizes must be non-negative, got m={m}, n={n}, k={k}");
    }

    private static void CheckStride(string op, string name, long stride)
    {
        if (stride < 0)
            throw new ArgumentException($"{op}: stride{name} must be non-negative, got {stride}");
    }

    // A matrix stored rows×cols with row stride ld, `count` copies `stride` apart, in a span of `length`.
    private static void CheckMatrix(string op, string name, int rows, int cols, int ld, int length,
        int count, long stride, string unit)
    {
        // The messages are built only on failure: this runs for every one of a step's products.
        if (ld < Math.Max(1, cols))
            throw new ArgumentException(
                $"{op}: {name} is {rows}x{cols} but {LdName(name)}={ld}; the row stride must be at least max(1, {cols})");
        if (rows == 0 || cols == 0 || count == 0)
            return;
        long need = (long)(rows - 1) * ld + cols + (long)(count - 1) * stride;
        if (length < need)
        {
            string batchText = count > 1 ? $", batch={count}, stride{name}={stride}" : "";
            throw new ArgumentException(
                $"{op}: {name} is {rows}x{cols} ({LdName(name)}={ld}{batchText}) but span holds {length} {unit}; need at least {need}");
        }
    }

    private static string LdName(string matrix) => "ld" + char.ToLowerInvariant(matrix[0]);
}
