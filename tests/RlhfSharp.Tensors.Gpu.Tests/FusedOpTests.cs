using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

public sealed class FusedOpTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly Device _device = fixture.Device;

    [Fact]
    public void LayerNormWithAndWithoutAffineParameters()
    {
        var x = Random([2, 3, 8], 21, -3f, 3f);
        Check(_device, t => F.LayerNorm(t[0], t[1], t[2]), [x, Random([8], 22), Random([8], 23)], rtol: 1e-4f);
        Check(_device, t => F.LayerNorm(t[0]), [x], rtol: 1e-4f);
    }

    [Fact]
    public void RmsNormWithAndWithoutWeight()
    {
        var x = Random([4, 6], 24, -3f, 3f);
        Check(_device, t => F.RmsNorm(t[0], t[1]), [x, Random([6], 25)], rtol: 1e-4f);
        Check(_device, t => F.RmsNorm(t[0]), [x], rtol: 1e-4f);
    }

    [Fact]
    public void EmbeddingAndItsScatterAddGradientWithRepeatedIds()
    {
        var w = Random([7, 5], 26);
        var ids = Tensor.FromArray([3, 0, 3, 6, 3, 1], 2, 3);
        // Repeated ids add their gradients atomically in any order: a few ulp apart at most.
        Check(_device, t => F.Embedding(t[0], t[1]), [w, ids], rtol: 1e-5f);
    }

    [Fact]
    public void AnOutOfRangeIdOnTheDeviceGivesNaNNotAReadOutOfBounds()
    {
        var w = Random([4, 3], 27).To(_device);
        var y = F.Embedding(w, Tensor.FromArray([1, 9]).To(_device)).ToArray();
        Assert.All(y[..3], v => Assert.True(float.IsFinite(v)));
        Assert.All(y[3..], v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void TokenLogProbsCrossEntropyAndEntropyFromLogits()
    {
        var logits = Random([2, 3, 9], 28, -4f, 4f);
        var ids = Tensor.FromArray([1, 8, 0, 4, 4, 2], 2, 3);
        Check(_device, t => F.TokenLogProbs(t[0], t[1]), [logits, ids]);
        Check(_device, t => F.Entropy(t[0]), [logits], rtol: 2e-5f);
        var targets = Tensor.FromArray([1, -100, 0, 4, -100, 2], 2, 3);
        Check(_device, t => F.CrossEntropy(t[0], t[1]), [logits, targets]);
        Check(_device, t => F.CrossEntropy(t[0], t[1], reduction: Reduction.Sum), [logits, targets]);
        Check(_device, t => F.CrossEntropy(t[0], t[1], reduction: Reduction.None), [logits, targets]);
    }

    [Fact]
    public void EntropyAllowsMinusInfinityLogits()
    {
        var logits = Tensor.FromArray([0.5f, float.NegativeInfinity, -1f, 2f, 0f, float.NegativeInfinity], 2, 3);
        Check(_device, t => F.Entropy(t[0]), [logits]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RopeRotatesAndItsGradientRotatesBack(bool perBatch)
    {
        var x = Random([2, 3, 4, 8], 29);
        var positions = perBatch ? Tensor.FromArray([0, 1, 2, 3, 5, 6, 7, 8], 2, 4) : Tensor.FromArray([2, 3, 4, 5]);
        var cache = new RopeCache(8, 16, 10000f, rotaryDim: 6);
        // cos/sin of positions up to 8 multiply inputs of size 2: within 1e-5 relative of the CPU.
        Check(_device, t => F.Rope(t[0], t[1], cache), [x, positions]);
        Check(_device, t => F.Rope(t[0].Transpose(1, 2).Transpose(1, 2), t[1], 500f), [x, positions]);
    }

    [Theory]
    [InlineData(4, 4, false, false)]
    [InlineData(4, 4, true, false)]
    [InlineData(2, 5, true, true)]
    [InlineData(4, 2, true, true)]
    public void AttentionCausalPaddedAndGroupedQueryAsOnTheCpu(int heads, int tk, bool causal, bool padded)
    {
        int kvHeads = heads == 4 ? 2 : 1, tq = causal && tk == 5 ? 3 : Math.Min(tk, 4);
        var q = Random([2, heads, tq, 4], 30);
        var k = Random([2, kvHeads, tk, 4], 31);
        var v = Random([2, kvHeads, tk, 3], 32);
        var mask = Tensor.Ones(2, tk);
        if (padded)
            mask = Tensor.FromArray([.. Enumerable.Range(0, 2 * tk).Select(i => i == 0 || i == tk ? 0f : 1f)], 2, tk);
        // Dot products of 4 and sums of up to 5 probabilities, in other orders than the CPU's blocks.
        Check(_device, t => F.ScaledDotProductAttention(t[0], t[1], t[2], causal, padded ? t[3] : null), [q, k, v, mask], rtol: 2e-5f);
    }

    [Fact]
    public void CatAndNarrowBackpropagateOnTheDevice()
    {
        var a = Random([2, 3], 33);
        var b = Random([2, 2], 34);
        Check(_device, t => Tensor.Cat([t[0], t[1]], 1).Narrow(1, 1, 3).Exp(), [a, b]);
    }

    [Fact]
    public void DropoutDropsTheSameElementsAsOnTheCpu()
    {
        var x = Random([4, 5], 35);
        var host = F.Dropout(x, 0.3f, training: true, new Generator(7));
        var dev = F.Dropout(x.To(_device), 0.3f, training: true, new Generator(7));
        AssertClose(host, dev, 0f, 0f, "dropout");
    }

    [Fact]
    public void AdamWStepsOnTheDeviceAsOnTheCpuAndItsStateSavesAndLoads()
    {
        var init = Random([3, 4], 36);
        var hostP = init.Clone();
        hostP.RequiresGrad = true;
        var devP = init.To(_device);
        devP.RequiresGrad = true;
        var hostOpt = new AdamW([hostP], lr: 0.05f, weightDecay: 0.1f);
        var devOpt = new AdamW([devP], lr: 0.05f, weightDecay: 0.1f);
        for (int step = 0; step < 3; step++)
        {
            var target = Random([3, 4], 40 + step);
            hostP.Sub(target).Pow(2f).Sum().Backward();
            devP.Sub(target.To(_device)).Pow(2f).Sum().Backward();
            float hn = GradClip.ClipGradNorm([hostP], 1f);
            float dn = GradClip.ClipGradNorm([devP], 1f);
            Assert.Equal(hn, dn, 4);
            hostOpt.Step();
            devOpt.Step();
            hostOpt.ZeroGrad();
            devOpt.ZeroGrad();
        }
        Assert.True(devP.IsOnDevice);
        AssertClose(hostP, devP, 1e-5f, 1e-6f, "parameters after 3 AdamW steps");

        // The state comes back to the host for checkpoints and loads into a CPU optimizer.
        var state = devOpt.StateDict();
        var expected = hostOpt.StateDict();
        AssertClose(Tensor.FromArray(expected.Params[0].Buffers["exp_avg_sq"]), Tensor.FromArray(state.Params[0].Buffers["exp_avg_sq"]), 1e-5f, 1e-9f, "second moment");
        var resumed = new AdamW([hostP], lr: 0.05f, weightDecay: 0.1f);
        resumed.LoadStateDict(state);
        Assert.Equal(3, resumed.StateDict().Params[0].Step);
    }

    [Fact]
    public void AnOptimizerWithoutADeviceKernelSaysSo()
    {
        var p = Tensor.Ones(3).To(_device);
        p.RequiresGrad = true;
        p.Sum().Backward();
        var e = Assert.Throws<DeviceMismatchException>(() => new Sgd([p], lr: 0.1f).Step());
        Assert.Contains("AdamW", e.Message);
    }

    [Fact]
    public void GatherAndIndexSelectWithRepeatedIndices()
    {
        var x = Random([3, 4, 2], 60);
        var index = Tensor.FromArray([0, 3, 3, 1, 2, 2, 0, 0, 1, 3, 3, 3], 3, 2, 2);
        Check(_device, t => t[0].Gather(1, t[1]), [x, index]);
        Check(_device, t => t[0].IndexSelect(1, t[1]), [x, Tensor.FromArray([2, 0, 2])]);
        Check(_device, t => t[0].IndexSelect(0, t[1]), [x, Tensor.FromArray([1, 1])]);
        var ids = Tensor.FromArray([5, 6, 7, 8, 9, 10], 3, 2);
        var rows = ids.To(_device).IndexSelect(0, Tensor.FromArray([2, 0]));
        Assert.Equal(DType.Int32, rows.Dtype);
        Assert.Equal([9, 10, 5, 6], rows.ToIntArray());
    }
}
