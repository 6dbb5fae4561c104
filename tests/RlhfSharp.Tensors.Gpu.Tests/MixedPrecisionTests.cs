using RlhfSharp.Tensors;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>bf16 storage on the device and bf16-input, fp32-accumulate products (dtype: bf16).</summary>
public sealed class MixedPrecisionTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly GpuFixture _fixture = fixture;

    [Fact]
    public void RoundingToBFloat16OnTheDeviceIsTheCpusRounding()
    {
        var x = Tensor.FromArray([1f, 1.00390625f, 1.01171875f, -3.14159f, 65504f, 1e-30f, float.PositiveInfinity, float.NaN, 0f, -0f]);
        var host = x.ToBFloat16();
        var dev = x.To(_fixture.Device).ToBFloat16();
        Assert.Equal(DType.BFloat16, dev.Dtype);
        Assert.True(dev.IsOnDevice);
        Assert.Equal(host.Cpu().ToArray(), dev.Cpu().ToArray());
    }

    [Fact]
    public void ABFloat16ProductReadsRoundedInputsAndAccumulatesInFloat32()
    {
        var a = Random([2, 5, 16], 50);
        var b = Random([16, 7], 51);
        var engine = _fixture.Engine;
        engine.BFloat16Matmul = true;
        try
        {
            var dev = a.To(_fixture.Device).Matmul(b.To(_fixture.Device));
            var expected = a.ToBFloat16().Float().Matmul(b.ToBFloat16().Float());
            // Same products of the same bf16 values, summed over 16 terms in another order.
            AssertClose(expected, dev, 1e-5f, 1e-5f, "bf16 product");
            var fp32 = a.Matmul(b).ToArray();
            Assert.Contains(fp32.Zip(dev.ToArray()), p => MathF.Abs(p.First - p.Second) > 1e-4f);
        }
        finally
        {
            engine.BFloat16Matmul = false;
        }
    }

    [Fact]
    public void AFrozenModelsBFloat16WeightsAreReadOnTheDevice()
    {
        var w = Random([6, 8], 52).ToBFloat16();
        var x = Random([3, 8], 53);
        var expected = F.Linear(x, w);
        var got = F.Linear(x.To(_fixture.Device), w.To(_fixture.Device));
        AssertClose(expected, got, 1e-5f, 1e-6f, "bf16 weight");
    }
}
