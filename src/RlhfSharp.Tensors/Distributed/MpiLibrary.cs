using System.Runtime.InteropServices;

namespace RlhfSharp.Tensors.Distributed;

/// <summary>
/// Our own binding of the few MPI calls data-parallel training needs, over Open MPI's
/// <c>libmpi.so.40</c> (or the file <see cref="PathVariable"/> names). Open MPI's handles are
/// the addresses of exported objects (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>,
/// <c>ompi_mpi_op_sum</c>…), read once here. Every call's return code is checked by the caller
/// through <see cref="Check"/>.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>An environment variable that may name the MPI library file to load.</summary>
    public const string PathVariable = "RLHFSHARP_MPI";

    public static readonly string[] LibraryNames = ["libmpi.so.40", "libmpi.so"];

    public const int ThreadFunneled = 1;
    public const int AnySource = -1;
    public const int Success = 0;

    /// <summary>MPI_IN_PLACE in Open MPI.</summary>
    public static readonly void* InPlace = (void*)1;

    private readonly IntPtr _lib;

    public readonly IntPtr CommWorld, ErrorsReturn;
    public readonly IntPtr Float, Double, Int32, Int64, Byte;
    public readonly IntPtr OpSum, OpMax, OpMin;

    public readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<IntPtr, int*, int> CommRank;
    public readonly delegate* unmanaged<IntPtr, int*, int> CommSize;
    public readonly delegate* unmanaged<IntPtr, IntPtr, int> CommSetErrhandler;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;
    public readonly delegate* unmanaged<IntPtr, int, int> Abort;
    public readonly delegate* unmanaged<IntPtr, IntPtr*, int> Ibarrier;
    public readonly delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> Iallreduce;
    public readonly delegate* unmanaged<void*, int, IntPtr, int, IntPtr, IntPtr*, int> Ibcast;
    public readonly delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, IntPtr*, int> Iallgatherv;
    public readonly delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, int, IntPtr, IntPtr*, int> Igatherv;
    public readonly delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> IreduceScatterBlock;
    public readonly delegate* unmanaged<IntPtr*, int*, MpiStatus*, int> Test;
    public readonly delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int> Isend;
    public readonly delegate* unmanaged<IntPtr*, int> RequestFree;
    public readonly delegate* unmanaged<int, int, IntPtr, int*, MpiStatus*, int> Iprobe;
    public readonly delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, MpiStatus*, int> Recv;

    private MpiLibrary(IntPtr lib)
    {
        _lib = lib;
        CommWorld = Export("ompi_mpi_comm_world");
        ErrorsReturn = Export("ompi_mpi_errors_return");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Int32 = Export("ompi_mpi_int");
        Int64 = Export("ompi_mpi_long_long_int");
        Byte = Export("ompi_mpi_byte");
        OpSum = Export("ompi_mpi_op_sum");
        OpMax = Export("ompi_mpi_op_max");
        OpMin = Export("ompi_mpi_op_min");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<IntPtr, IntPtr, int>)Export("MPI_Comm_set_errhandler");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
        Abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        Ibarrier = (delegate* unmanaged<IntPtr, IntPtr*, int>)Export("MPI_Ibarrier");
        Iallreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Export("MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, IntPtr*, int>)Export("MPI_Ibcast");
        Iallgatherv = (delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, IntPtr*, int>)Export("MPI_Iallgatherv");
        Igatherv = (delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, int, IntPtr, IntPtr*, int>)Export("MPI_Igatherv");
        IreduceScatterBlock = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Export("MPI_Ireduce_scatter_block");
        Test = (delegate* unmanaged<IntPtr*, int*, MpiStatus*, int>)Export("MPI_Test");
        Isend = (delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int>)Export("MPI_Isend");
        RequestFree = (delegate* unmanaged<IntPtr*, int>)Export("MPI_Request_free");
        Iprobe = (delegate* unmanaged<int, int, IntPtr, int*, MpiStatus*, int>)Export("MPI_Iprobe");
        Recv = (delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, MpiStatus*, int>)Export("MPI_Recv");
    }

    /// <summary>
    /// Loads the library with its symbols global (Open MPI's plugins resolve against them); a
    /// missing library is a <see cref="DistributedException"/> naming every place tried and what to install.
    /// </summary>
    public static MpiLibrary Load()
    {
        var tried = new List<string>();
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path)
        {
            if (TryOpenGlobal(path) is { } lib)
                return new MpiLibrary(lib);
            tried.Add($"{path} (from {PathVariable})");
        }
        foreach (var name in LibraryNames)
        {
            if (TryOpenGlobal(name) is { } lib)
                return new MpiLibrary(lib);
            tried.Add(name);
        }
        throw new DistributedException(
            $"this process was started by mpirun, but no MPI library could be loaded (tried {string.Join(", ", tried)}). " +
            "Install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev, or run scripts/mpi-setup.sh), " +
            $"or set {PathVariable} to the path of libmpi.so.");
    }

    public void Check(int rc, string call)
    {
        if (rc == Success)
            return;
        throw new DistributedException($"{call} failed with MPI error {rc}: {Describe(rc)}");
    }

    public string Describe(int rc)
    {
        var buffer = stackalloc byte[512];
        int length = 0;
        if (ErrorString(rc, buffer, &length) != Success)
            return "(no description)";
        return System.Text.Encoding.ASCII.GetString(buffer, Math.Clamp(length, 0, 511));
    }

    private IntPtr Export(string name) =>
        NativeLibrary.TryGetExport(_lib, name, out var address)
            ? address
            : throw new DistributedException($"the MPI library has no symbol '{name}'; RlhfSharp runs on Open MPI 4 or newer (set {PathVariable} to its libmpi.so)");

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    private static IntPtr? TryOpenGlobal(string name)
    {
        try
        {
            var handle = DlOpen(name, RtldNow | RtldGlobal);
            return handle == IntPtr.Zero ? null : handle;
        }
        catch (DllNotFoundException)
        {
            return NativeLibrary.TryLoad(name, out var lib) ? lib : null;
        }
    }
}

/// <summary>Open MPI's MPI_Status: source, tag, error, then two private fields.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MpiStatus
{
    public int Source;
    public int Tag;
    public int Error;
    public int Cancelled;
    public nuint Count;
}
