using RlhfSharp.Tensors;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// The row kernels with several warps per row group, as on a GPU (the CPU accelerator runs one
/// warp of four threads per group unless asked): the group-wide sums and maxima must give the CPU
/// engine's results for rows shorter than, equal to and longer than the group, and masked rows.
/// </summary>
public sealed class GroupedRowTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly GpuFixture _fixture = fixture;

    private void WithGroups(int size, Action check)
    {
        int? before = _fixture.Engine.CpuAcceleratorGroupSize;
        _fixture.Engine.CpuAcceleratorGroupSize = size;
        try
        {
            check();
        }
        finally
        {
            _fixture.Engine.CpuAcceleratorGroupSize = before;
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(13)]
    public void EveryRowKernelWithEightThreadsPerRow(int width)
    {
        var device = _fixture.Device;
        WithGroups(8, () =>
        {
            var x = Random([5, width], 70, -3f, 3f);
            Check(device, t => F.Softmax(t[0]), [x]);
            Check(device, t => F.LogSoftmax(t[0]), [x]);
            Check(device, t => t[0].Sum(-1), [x]);
            Check(device, t => F.Entropy(t[0]), [x], rtol: 2e-5f);
            Check(device, t => F.LayerNorm(t[0], t[1], t[2]), [x, Random([width], 71), Random([width], 72)], rtol: 1e-4f);
            Check(device, t => F.RmsNorm(t[0], t[1]), [x, Random([width], 73)], rtol: 1e-4f);
            var ids = Tensor.FromArray([.. Enumerable.Range(0, 5).Select(i => (i * 7) % width)]);
            Check(device, t => F.TokenLogProbs(t[0], t[1]), [x, ids]);
        });
    }

    [Fact]
    public void AttentionWithEightThreadsPerRow()
    {
        var device = _fixture.Device;
        WithGroups(8, () =>
        {
            var mask = Tensor.FromArray([0f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 0f], 2, 5);
            Check(device, t => F.ScaledDotProductAttention(t[0], t[1], t[2], causal: true, keyPaddingMask: t[3]),
                [Random([2, 2, 3, 4], 74), Random([2, 1, 5, 4], 75), Random([2, 1, 5, 4], 76), mask], rtol: 2e-5f);
        });
    }
}
