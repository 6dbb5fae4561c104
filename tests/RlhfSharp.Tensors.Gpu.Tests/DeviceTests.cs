using RlhfSharp.Tensors;

namespace RlhfSharp.Tensors.Gpu.Tests;

public sealed class DeviceTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly Device _device = fixture.Device;

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(1029)]
    public void ATensorGoesToTheDeviceAndComesBackUnchanged(int n)
    {
        var x = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (i * 0.37f) - 3f).ToArray());
        var d = x.To(_device);
        Assert.Equal(_device, d.Device);
        Assert.True(d.IsOnDevice);
        var back = d.Cpu();
        Assert.Equal(Device.Cpu, back.Device);
        Assert.Equal(x.ToArray(), back.ToArray());

        var ids = Tensor.FromArray(Enumerable.Range(0, n).ToArray());
        Assert.Equal(ids.ToIntArray(), ids.To(_device).ToIntArray());
        var half = x.ToBFloat16();
        Assert.Equal(half.ToArray(), half.To(_device).Float().ToArray());
    }

    [Fact]
    public void ViewsOfADeviceTensorReadTheRightElements()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 4).Select(i => (float)i).ToArray(), 2, 3, 4);
        var d = x.To(_device);
        Assert.Equal(x.Transpose(0, 2).Contiguous().ToArray(), d.Transpose(0, 2).ToArray());
        Assert.Equal(x.Narrow(1, 1, 2).ToArray(), d.Narrow(1, 1, 2).ToArray());
        Assert.Equal(x.Permute(2, 0, 1).Reshape(4, 6).ToArray(), d.Permute(2, 0, 1).Reshape(4, 6).ToArray());
        Assert.Equal(x.Select(0, 1).Unsqueeze(0).Expand(3, 3, 4).ToArray(), d.Select(0, 1).Unsqueeze(0).Expand(3, 3, 4).ToArray());
        Assert.Equal(x[1, 2, 3], d[1, 2, 3]);
        Assert.Contains(_device.ToString(), d.ToString());
    }

    [Fact]
    public void HostDataMeetingADeviceTensorIsSentThereAndCounted()
    {
        var a = Tensor.Ones(3).To(_device);
        DeviceTransfers.Reset();
        var sum = a.Add(Tensor.FromArray([1f, 2f, 3f]));
        Assert.True(sum.IsOnDevice);
        Assert.Equal(1, DeviceTransfers.ToDevice);
        // A host one-element tensor is a scalar operand, as in a.Add(2f): nothing is sent.
        Assert.Equal([3f, 3f, 3f], a.Add(Tensor.Scalar(2f)).ToArray());
        Assert.Equal(1, DeviceTransfers.ToDevice);
    }

    [Fact]
    public void AHostTensorThatRequiresGradIsNotSentSilently()
    {
        var a = Tensor.Ones(3).To(_device);
        var w = Tensor.Ones(3);
        w.RequiresGrad = true;
        var e = Assert.Throws<DeviceMismatchException>(() => a.Mul(w));
        Assert.Contains(_device.ToString(), e.Message);
        Assert.Contains("requires grad", e.Message);
        Assert.IsAssignableFrom<IUserError>(e);
    }

    [Fact]
    public void TensorsOnTwoDevicesAreAClearErrorNamingBoth()
    {
        var other = new Device(DeviceKind.CpuAccelerator, 1);
        using var engine = GpuEngine.Use(other);
        var a = Tensor.Ones(3).To(_device);
        var b = Tensor.Ones(3).To(other);
        var e = Assert.Throws<DeviceMismatchException>(() => a.Add(b));
        Assert.Contains(_device.ToString(), e.Message);
        Assert.Contains(other.ToString(), e.Message);
    }

    [Fact]
    public void HostOnlyCodeReachedByADeviceTensorNamesTheDevice()
    {
        var d = Tensor.Ones(2, 2).To(_device);
        var e = Assert.Throws<DeviceMismatchException>(() => d.ToInt32());
        Assert.Contains(_device.ToString(), e.Message);
        Assert.Contains("To(Device.Cpu)", e.Message);
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("cuda", DeviceKind.Cuda, 0)]
    [InlineData("CUDA:3", DeviceKind.Cuda, 3)]
    [InlineData(" cpu-accelerator ", DeviceKind.CpuAccelerator, 0)]
    public void DeviceNamesParse(string text, DeviceKind kind, int ordinal)
    {
        var d = Device.Parse(text);
        Assert.Equal(kind, d.Kind);
        Assert.Equal(ordinal, d.Ordinal);
        Assert.Equal(d, Device.Parse(d.ToString()));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void BadDeviceNamesAreRefusedListingTheValidOnes(string text)
    {
        var e = Assert.Throws<DeviceNameException>(() => Device.Parse(text));
        Assert.Contains("cuda:N", e.Message);
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void ADeviceNobodySetUpIsAClearError()
    {
        var e = Assert.Throws<DeviceMismatchException>(() => Tensor.Ones(2).To(Device.Cuda(7)));
        Assert.Contains("cuda:7", e.Message);
        Assert.Contains("not set up", e.Message);
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
