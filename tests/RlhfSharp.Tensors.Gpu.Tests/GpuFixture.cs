using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Gpu;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// The engine under test: a CUDA GPU when RLHFSHARP_TEST_DEVICE=cuda (the device run), else ILGPU's
/// CPU accelerator, which runs the same kernels on host threads. Set up once per process.
/// </summary>
public sealed class GpuFixture
{
    public GpuFixture()
    {
        Engine = GpuEngine.Use(Environment.GetEnvironmentVariable("RLHFSHARP_TEST_DEVICE") == "cuda" ? Tensors.Device.Cuda() : Tensors.Device.CpuAccelerator);
        Device = Engine.Device;
    }

    public GpuEngine Engine { get; }

    public Device Device { get; }
}
