using RlhfSharp.Tensors;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

public sealed class ReductionOpTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly Device _device = fixture.Device;

    [Fact]
    public void SumsAndMeansOverAnyDims()
    {
        var x = Random([2, 3, 4], 11);
        Check(_device, t => t[0].Sum(), [x]);
        Check(_device, t => t[0].Sum(1), [x]);
        Check(_device, t => t[0].Sum([0, 2], keepDim: true), [x]);
        Check(_device, t => t[0].Mean(-1), [x]);
        Check(_device, t => t[0].Mean(), [x]);
    }

    [Fact]
    public void MaxOverADimGivesValuesAndFirstIndices()
    {
        var x = Tensor.FromArray([1f, 5f, 5f, -1f, 2f, 0f, 7f, 7f], 2, 4);
        var (hv, hi) = x.Max(1);
        var (dv, di) = x.To(_device).Max(1);
        Assert.Equal(hv.ToArray(), dv.ToArray());
        Assert.Equal(hi.ToIntArray(), di.ToIntArray());
        var (cv, ci) = x.To(_device).Max(0, keepDim: true);
        Assert.Equal(x.Max(0, keepDim: true).Values.ToArray(), cv.ToArray());
        Assert.Equal([1, 4], ci.Shape);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void SoftmaxAndLogSoftmaxMatchTheCpu(int dim)
    {
        var x = Random([2, 5, 6], 12, -5f, 5f);
        Check(_device, t => F.Softmax(t[0], dim), [x]);
        Check(_device, t => F.LogSoftmax(t[0], dim), [x]);
    }

    [Fact]
    public void SoftmaxOfAMaskedRowIsZeroWhereMasked()
    {
        var x = Random([2, 4], 13);
        var mask = Tensor.FromArray([0f, 0f, 1f, 1f, 1f, 0f, 0f, 0f], 2, 4);
        Check(_device, t => F.Softmax(t[0].MaskedFill(t[1], float.NegativeInfinity)), [x, mask]);
    }

    public static TheoryData<int[], int[], bool, bool> MatmulCases() => new()
    {
        { new[] { 3, 4 }, new[] { 4, 5 }, false, false },
        { new[] { 3, 4 }, new[] { 5, 4 }, false, true },
        { new[] { 4, 3 }, new[] { 4, 5 }, true, false },
        { new[] { 2, 3, 4 }, new[] { 4, 5 }, false, false },
        { new[] { 2, 3, 4 }, new[] { 2, 4, 5 }, false, false },
        { new[] { 2, 1, 3, 4 }, new[] { 3, 4, 2 }, false, false },
        { new[] { 2, 2, 4, 3 }, new[] { 2, 2, 5, 4 }, true, true },
    };

    [Theory]
    [MemberData(nameof(MatmulCases))]
    public void MatmulWithTransposesAndBroadcastBatches(int[] shapeA, int[] shapeB, bool transposeA, bool transposeB)
    {
        var a = Random(shapeA, 14);
        var b = Random(shapeB, 15);
        // Sums of 4–5 products per element, then of up to 6 in the gradients: 1e-5 relative holds.
        Check(_device, t =>
        {
            var x = transposeA ? t[0].Transpose(-1, -2) : t[0];
            var y = transposeB ? t[1].Transpose(-1, -2) : t[1];
            return x.Matmul(y);
        }, [a, b]);
    }

    [Fact]
    public void ALinearLayerOnTheDeviceNeedsNoTransfersUntilTheResultIsRead()
    {
        var x = Random([4, 8], 16).To(_device);
        var w = Random([6, 8], 17).To(_device);
        w.RequiresGrad = true;
        var b = Random([6], 18).To(_device);
        b.RequiresGrad = true;
        DeviceTransfers.Reset();
        var loss = F.LogSoftmax(F.Linear(x, w, b).Gelu()).Mean();
        loss.Backward();
        Assert.Equal(0, DeviceTransfers.Total);
        Assert.True(float.IsFinite(loss.Item()));
        Assert.Equal(1, DeviceTransfers.ToHost);
        Assert.Equal(0, DeviceTransfers.ToDevice);
    }
}
