using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Tests.OptimTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class OptimGradClipTests
{
    [Fact]
    public void ClipsToMaxNormAndReturnsThePreClipNorm()
    {
        // grads (3) and (4) across two tensors: norm √(9 + 16) = 5; scale = 1/(5 + 1e-6) → (0.6, 0.8)
        var a = Param("a", 0f);
        var b = Param("b", 0f);
        SetGrad(a, 3f);
        SetGrad(b, 4f);
        float norm = GradClip.ClipGradNorm([a, b], maxNorm: 1f);
        Assert.Equal(5f, norm);
        AssertClose([0.6f], a.Grad!.ToArray());
        AssertClose([0.8f], b.Grad!.ToArray());
        // Clipped to the max: the norm is now 1 (to within the 1e-6 guard).
        Assert.Equal(1f, GradClip.ClipGradNorm([a, b], maxNorm: 10f), 5);
    }

    [Fact]
    public void SmallGradientsAndNullGradientsAreLeftAlone()
    {
        var a = Param("a", 0f, 0f);
        var b = Param("b", 0f);
        SetGrad(a, 0.3f, 0.4f);
        float norm = GradClip.ClipGradNorm([a, b], maxNorm: 1f);
        Assert.Equal(0.5f, norm, 6);
        AssertSameBits([0.3f, 0.4f], a.Grad!.ToArray());
        Assert.Null(b.Grad);
    }

    [Fact]
    public void NonFiniteNormIsReturnedAndGradientsKept()
    {
        var a = Param("a", 0f, 0f);
        var b = Param("b", 0f);
        SetGrad(a, float.NaN, 1f);
        SetGrad(b, 100f);
        Assert.True(float.IsNaN(GradClip.ClipGradNorm([a, b], 1f)));
        AssertSameBits([float.NaN, 1f], a.Grad!.ToArray());
        AssertSameBits([100f], b.Grad!.ToArray());
        SetGrad(a, float.PositiveInfinity, 1f);
        Assert.Equal(float.PositiveInfinity, GradClip.ClipGradNorm([a, b], 1f));
        AssertSameBits([100f], b.Grad!.ToArray());
    }

    [Fact]
    public void NormIsComputedInDouble()
    {
        // 10 000 gradients of 1e-3 plus one of 1: exact norm √(1 + 1e4·1e-6) = √1.01; a float
        // running sum would drift in the last bits, the double sum rounds once.
        var g = Enumerable.Repeat(1e-3f, 10_000).Append(1f).ToArray();
        var p = TinyModels.Param(Tensor.Zeros(g.Length), "p");
        p.Grad = Tensor.FromArray(g);
        double expected = Math.Sqrt(g.Sum(x => (double)x * x));
        Assert.Equal((float)expected, GradClip.ClipGradNorm([p], 100f));
    }
}
