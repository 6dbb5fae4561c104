using System.Runtime.InteropServices;

namespace RlhfSharp.Tensors.Gpu.Cuda;

/// <summary>
/// A small binding of our own over cuBLAS (the CUDA 13 library first, then 12): a handle on the
/// engine's stream and strided-batched GEMMs in fp32, or with bf16 inputs and fp32 accumulation
/// on tensor cores. Every status is checked and turned into an error naming the call.
/// </summary>
internal sealed unsafe class Cublas : IDisposable
{
    /// <summary>The library names tried in order after <see cref="PathVariable"/>.</summary>
    public static readonly string[] LibraryNames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"];

    /// <summary>An environment variable that may name the library file to load (a wheel's lib folder, say).</summary>
    public const string PathVariable = "RLHFSHARP_CUBLAS";

    private const int OpN = 0, OpT = 1;
    private const int CudaR32F = 0, CudaR16BF = 14;
    private const int ComputeF32 = 68;
    private const int GemmDefault = -1;

    private readonly IntPtr _library;
    private IntPtr _handle;
    private readonly delegate* unmanaged<IntPtr, int> _destroy;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, long, IntPtr, int, long, float*, IntPtr, int, long, int, int> _sgemmBatched;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, void*, IntPtr, int, int, long, IntPtr, int, int, long, void*, IntPtr, int, int, long, int, int, int, int> _gemmBatchedEx;

    private Cublas(IntPtr library, IntPtr stream)
    {
        _library = library;
        var create = (delegate* unmanaged<IntPtr*, int>)Export("cublasCreate_v2");
        var setStream = (delegate* unmanaged<IntPtr, IntPtr, int>)Export("cublasSetStream_v2");
        _destroy = (delegate* unmanaged<IntPtr, int>)Export("cublasDestroy_v2");
        _sgemmBatched = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, long, IntPtr, int, long, float*, IntPtr, int, long, int, int>)Export("cublasSgemmStridedBatched");
        _gemmBatchedEx = (delegate* unmanaged<IntPtr, int, int, int, int, int, void*, IntPtr, int, int, long, IntPtr, int, int, long, void*, IntPtr, int, int, long, int, int, int, int>)Export("cublasGemmStridedBatchedEx");
        IntPtr h;
        Check(create(&h), "cublasCreate");
        _handle = h;
        Check(setStream(_handle, stream), "cublasSetStream");
    }

    /// <summary>
    /// Loads cuBLAS and makes a handle on <paramref name="stream"/>; a missing library is a
    /// <see cref="GpuUnavailableException"/> naming every place tried.
    /// </summary>
    public static Cublas Create(IntPtr stream)
    {
        var tried = new List<string>();
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path)
        {
            if (NativeLibrary.TryLoad(path, out var lib))
                return new Cublas(lib, stream);
            tried.Add($"{path} (from {PathVariable})");
        }
        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var lib))
                return new Cublas(lib, stream);
            tried.Add(name);
        }
        throw new GpuUnavailableException(
            $"cuBLAS was not found (tried {string.Join(", ", tried)}); install the CUDA toolkit's libcublas (or the nvidia-cublas wheel) and put its folder on LD_LIBRARY_PATH, or name the file in {PathVariable}");
    }

    /// <summary>Whether a cuBLAS library can be loaded here (for tests and checks).</summary>
    public static bool IsAvailable()
    {
        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var lib))
            {
                NativeLibrary.Free(lib);
                return true;
            }
        }
        return false;
    }

    /// <summary>C = op(A)·op(B), column-major, fp32, strided-batched (a stride of 0 repeats an operand).</summary>
    public void Sgemm(in GemmPlan p, IntPtr a, IntPtr b, IntPtr c)
    {
        float alpha = 1f, beta = 0f;
        Check(_sgemmBatched(_handle, p.TransA ? OpT : OpN, p.TransB ? OpT : OpN, p.M, p.N, p.K,
            &alpha, a, p.Lda, p.StrideA, b, p.Ldb, p.StrideB, &beta, c, p.Ldc, p.StrideC, p.BatchCount), "cublasSgemmStridedBatched");
    }

    /// <summary>C (fp32) = op(A)·op(B) with A and B in bf16, accumulated in fp32 (tensor cores).</summary>
    public void GemmBf16(in GemmPlan p, IntPtr a, IntPtr b, IntPtr c)
    {
        float alpha = 1f, beta = 0f;
        Check(_gemmBatchedEx(_handle, p.TransA ? OpT : OpN, p.TransB ? OpT : OpN, p.M, p.N, p.K,
            &alpha, a, CudaR16BF, p.Lda, p.StrideA, b, CudaR16BF, p.Ldb, p.StrideB, &beta, c, CudaR32F, p.Ldc, p.StrideC, p.BatchCount,
            ComputeF32, GemmDefault), "cublasGemmStridedBatchedEx");
    }

    private IntPtr Export(string name) =>
        NativeLibrary.TryGetExport(_library, name, out var f)
            ? f
            : throw new GpuUnavailableException($"the loaded cuBLAS has no {name}; it is older than this engine needs (CUDA 12 or 13)");

    private static void Check(int status, string call)
    {
        if (status != 0)
            throw new InvalidOperationException($"{call} failed with cuBLAS status {status} ({StatusName(status)})");
    }

    /// <summary>cublasStatus_t names, as in cublas_api.h.</summary>
    internal static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => "unknown status",
    };

    public void Dispose()
    {
        if (_handle != IntPtr.Zero)
        {
            _destroy(_handle);
            _handle = IntPtr.Zero;
        }
        NativeLibrary.Free(_library);
    }
}
