using ILGPU;
using ILGPU.Runtime;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>y ← a·x + y, the smallest kernel: the device plumbing's first check.</summary>
public static class AxpyKernel
{
    // x [n], y [n] -> y [n]; one thread per element.
    private static void Kernel(Index1D i, float a, ArrayView<float> x, ArrayView<float> y) => y[i] += a * x[i];

    /// <summary>y ← a·x + y over the first <paramref name="n"/> elements. x [n], y [n] -> y [n]</summary>
    public static void Run(GpuDevice device, float a, ArrayView<float> x, ArrayView<float> y, int n)
    {
        var k = device.Kernel("axpy", acc => acc.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, ArrayView<float>>(Kernel));
        k(n, a, x, y);
    }
}
