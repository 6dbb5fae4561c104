using RlhfSharp.Tensors.Gpu;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// One accelerator for a test class: a CUDA GPU when RLHFSHARP_TEST_DEVICE=cuda (the device run),
/// else ILGPU's CPU accelerator, which runs the same kernels on host threads.
/// </summary>
public sealed class GpuFixture : IDisposable
{
    public GpuFixture() =>
        Device = Environment.GetEnvironmentVariable("RLHFSHARP_TEST_DEVICE") == "cuda" ? GpuDevice.Cuda() : GpuDevice.CpuAccelerator();

    public GpuDevice Device { get; }

    public void Dispose() => Device.Dispose();
}
