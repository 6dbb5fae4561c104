using RlhfSharp.Tensors.Gpu.Kernels;

namespace RlhfSharp.Tensors.Gpu.Tests;

public sealed class DeviceTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly GpuDevice _device = fixture.Device;

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(1029)]
    public void AKernelRunsAndItsResultComesBack(int n)
    {
        var x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, n).Select(i => 1f - i).ToArray();
        using var dx = _device.Upload(x);
        using var dy = _device.Upload(y);
        AxpyKernel.Run(_device, 2f, dx.View, dy.View, n);
        var got = _device.Download(dy.View, n);
        for (int i = 0; i < n; i++)
            Assert.Equal((2f * x[i]) + y[i], got[i]);
    }

    [Fact]
    public void CudaWithoutADriverIsAClearErrorNamingWhatIsMissing()
    {
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad(GpuDevice.CudaDriverLibrary, out var h))
        {
            // This machine has the driver: the error path is not reachable here, and asking for a
            // device ordinal it does not have is.
            System.Runtime.InteropServices.NativeLibrary.Free(h);
            var e = Assert.Throws<GpuUnavailableException>(() => GpuDevice.Cuda(999));
            Assert.Contains("cuda:999", e.Message);
            return;
        }
        var ex = Assert.Throws<GpuUnavailableException>(() => GpuDevice.Cuda());
        Assert.Contains("libcuda.so.1", ex.Message);
        Assert.Contains("device: cpu", ex.Message);
        Assert.IsAssignableFrom<IUserError>(ex);
    }
}
