using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace RlhfSharp.Tensors.Gpu;

/// <summary>
/// An accelerator that runs the engine's kernels, compiled by ILGPU from the C# in this project:
/// a CUDA GPU (PTX), or ILGPU's CPU accelerator, which runs the very same kernels on host threads
/// (slowly), so that every kernel is tested on machines without a GPU.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private readonly Context _context;
    private readonly Dictionary<string, Delegate> _kernels = [];

    private GpuDevice(Context context, Accelerator accelerator, string name)
    {
        _context = context;
        Accelerator = accelerator;
        Name = name;
    }

    public Accelerator Accelerator { get; }

    /// <summary>"cpu-accelerator" or "cuda:N (device name)".</summary>
    public string Name { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>ILGPU's CPU accelerator: the GPU kernels run on host threads (for tests without a GPU).</summary>
    public static GpuDevice CpuAccelerator()
    {
        var context = Context.Create(b => b.CPU(CPUDeviceKind.Default).EnableAlgorithms().Optimize(OptimizationLevel.O1));
        return new GpuDevice(context, context.CreateCPUAccelerator(0), "cpu-accelerator");
    }

    /// <summary>
    /// CUDA device <paramref name="ordinal"/>. Throws <see cref="GpuUnavailableException"/> naming
    /// what is missing: the driver library (libcuda.so.1), or a device with that ordinal.
    /// </summary>
    public static GpuDevice Cuda(int ordinal = 0)
    {
        if (!NativeLibrary.TryLoad(CudaDriverLibrary, out var driver))
        {
            throw new GpuUnavailableException(
                $"device cuda:{ordinal}: the NVIDIA driver library {CudaDriverLibrary} was not found; install the NVIDIA driver (it ships libcuda), or use device: cpu");
        }
        NativeLibrary.Free(driver);
        Context context;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new GpuUnavailableException($"device cuda:{ordinal}: the CUDA driver could not be initialised ({e.Message}); check nvidia-smi, or use device: cpu", e);
        }
        var devices = context.GetCudaDevices();
        if (ordinal < 0 || ordinal >= devices.Count)
        {
            context.Dispose();
            throw new GpuUnavailableException($"device cuda:{ordinal}: this machine has {devices.Count} CUDA device(s); use cuda:0 … cuda:{Math.Max(devices.Count - 1, 0)}, or device: cpu");
        }
        var accelerator = devices[ordinal].CreateAccelerator(context);
        return new GpuDevice(context, accelerator, $"cuda:{ordinal} ({accelerator.Name})");
    }

    /// <summary>The CUDA driver API library the NVIDIA driver installs.</summary>
    public const string CudaDriverLibrary = "libcuda.so.1";

    /// <summary>A kernel compiled once per device and cached under <paramref name="key"/>.</summary>
    internal TKernel Kernel<TKernel>(string key, Func<Accelerator, TKernel> load)
        where TKernel : Delegate
    {
        lock (_kernels)
        {
            if (!_kernels.TryGetValue(key, out var k))
                _kernels[key] = k = load(Accelerator);
            return (TKernel)k;
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }
}
