using RlhfSharp.Tensors.Autograd;
using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Embedding, Dropout and Linear.</summary>
public class FunctionalLayerTests
{
    [Fact]
    public void EmbeddingLooksUpRows()
    {
        var w = Tensor.FromArray([0f, 1f, 10f, 11f, 20f, 21f], 3, 2);
        var y = F.Embedding(w, Tensor.FromArray([2, 0, 2, 1], 2, 2));
        Assert.Equal(new[] { 2, 2, 2 }, y.Shape);
        Assert.Equal([20f, 21f, 0f, 1f, 20f, 21f, 10f, 11f], y.ToArray());
    }

    [Fact]
    public void EmbeddingReadsBFloat16WeightsWithoutGrad()
    {
        var w = Randn(50, 5, 3);
        var ids = Tensor.FromArray([4, 1, 1], 3);
        var half = w.ToBFloat16();
        var y = F.Embedding(half, ids);
        Assert.Equal(F.Embedding(half.Float(), ids).ToArray(), y.ToArray());
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void EmbeddingGradCheckWithRepeatedIds()
    {
        var ids = Tensor.FromArray([1, 3, 1, 0, 1, 3], 2, 3);
        GradCheck.Check(t => F.Embedding(t[0], ids), [Randn(51, 4, 5)]);
    }

    [Fact]
    public void EmbeddingOutOfRangeIdNamesIdAndVocab()
    {
        var ex = Assert.Throws<IndexOutOfRangeException>(() => F.Embedding(Tensor.Zeros(7, 2), Tensor.FromArray([1, 7], 2)));
        Assert.Contains("id 7", ex.Message);
        Assert.Contains("7 rows", ex.Message);
        Assert.Throws<IndexOutOfRangeException>(() => F.Embedding(Tensor.Zeros(7, 2), Tensor.FromArray([-1], 1)));
    }

    [Fact]
    public void DropoutIsIdentityWhenOffAndScalesKeptValues()
    {
        var x = Tensor.Ones(1000);
        Assert.Same(x, F.Dropout(x, 0.5f, training: false, new Generator(1)));
        Assert.Same(x, F.Dropout(x, 0f, training: true, new Generator(1)));
        var y = F.Dropout(x, 0.25f, training: true, new Generator(1)).ToArray();
        Assert.All(y, v => Assert.True(v == 0f || Math.Abs(v - (1f / 0.75f)) < 1e-6f));
        double kept = y.Count(v => v != 0) / 1000.0;
        Assert.InRange(kept, 0.70, 0.80); // 750 expected, σ ≈ 14
        Assert.All(F.Dropout(x, 1f, training: true, new Generator(1)).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(x, 1.5f, true, new Generator(1)));
    }

    [Fact]
    public void DropoutIsDeterministicGivenTheGenerator()
    {
        var x = Randn(52, 4, 8);
        Assert.Equal(F.Dropout(x, 0.3f, true, new Generator(9)).ToArray(), F.Dropout(x, 0.3f, true, new Generator(9)).ToArray());
        Assert.NotEqual(F.Dropout(x, 0.3f, true, new Generator(9)).ToArray(), F.Dropout(x, 0.3f, true, new Generator(10)).ToArray());
    }

    [Fact]
    public void DropoutGradCheckWithFixedGenerator()
    {
        // A fresh generator per call: every finite-difference evaluation sees the same mask.
        GradCheck.Check(t => F.Dropout(t[0], 0.4f, true, new Generator(3)), [Randn(53, 3, 7)]);
    }

    [Fact]
    public void LinearMatchesReference()
    {
        var x = Randn(54, 2, 3, 5);
        var w = Randn(55, 4, 5);
        var b = Randn(56, 4);
        var xs = x.ToArray();
        var ws = w.ToArray();
        var bs = b.ToArray();
        var expected = new double[2 * 3 * 4];
        for (int r = 0; r < 6; r++)
            for (int o = 0; o < 4; o++)
            {
                double s = bs[o];
                for (int i = 0; i < 5; i++)
                    s += (double)xs[(r * 5) + i] * ws[(o * 5) + i];
                expected[(r * 4) + o] = s;
            }
        var y = F.Linear(x, w, b);
        Assert.Equal(new[] { 2, 3, 4 }, y.Shape);
        AssertClose(expected, y.ToArray(), 1e-5);
        AssertClose([.. expected.Select((v, i) => v - bs[i % 4])], F.Linear(x, w).ToArray(), 1e-5);
        AssertClose(expected[..4], F.Linear(x.Reshape(-1, 5).Select(0, 0), w, b).ToArray(), 1e-5);
    }

    [Fact]
    public void LinearBFloat16WeightMatchesConvertedWeight()
    {
        var x = Randn(57, 3, 5);
        var w = Randn(58, 4, 5).ToBFloat16();
        AssertClose([.. F.Linear(x, w.Float()).ToArray().Select(v => (double)v)], F.Linear(x, w).ToArray(), 1e-5);
    }

    [Fact]
    public void LinearGradCheck()
    {
        GradCheck.Check(t => F.Linear(t[0], t[1], t[2]), [Randn(59, 2, 3, 5), Randn(60, 4, 5), Randn(61, 4)]);
        GradCheck.Check(t => F.Linear(t[0], t[1]), [Randn(62, 1, 1), Randn(63, 3, 1)]);
    }

    [Fact]
    public void LinearShapeErrorNamesOpAndShapes()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => F.Linear(Tensor.Zeros(2, 6), Tensor.Zeros(4, 5)));
        Assert.Equal("Linear", ex.Op);
        Assert.Contains("[2, 6]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }

    [Fact]
    public void FunctionalOpsRecordNothingUnderNoGrad()
    {
        var x = Randn(64, 2, 3);
        x.RequiresGrad = true;
        using (GradMode.NoGrad())
        {
            Assert.False(F.Softmax(x).RequiresGrad);
            Assert.False(F.LayerNorm(x).RequiresGrad);
            Assert.False(F.Dropout(x, 0.5f, true, new Generator(1)).RequiresGrad);
        }
        Assert.True(F.Softmax(x).RequiresGrad);
    }
}
