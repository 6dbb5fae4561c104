using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Backward recycles gradient storage through <see cref="GradBuffers"/>; these graphs share one
/// gradient between several inputs, pass views of gradients along, nest a backward inside another
/// (checkpointing) and retain the graph, on tensors large enough to be pooled, and check exact
/// results on repeated runs (a recycled array still in use would corrupt a later gradient).
/// </summary>
public class GradBufferTests
{
    private const int N = 64; // 64 x 64 = 4096 elements, above GradBuffers.MinPooledLength

    private static Tensor Leaf(Func<int, float> value)
    {
        var data = new float[N * N];
        for (int i = 0; i < data.Length; i++)
            data[i] = value(i);
        var t = Tensor.FromArray(data, N, N);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void SharedAndViewedGradientsStayExactOverRepeatedRuns()
    {
        Assert.True(N * N >= GradBuffers.MinPooledLength);
        var x = Leaf(i => (i % 7) - 3);
        var w = Leaf(i => (i % 5) * 0.5f);
        var xs = x.ToArray();
        var ws = w.ToArray();
        for (int run = 0; run < 4; run++)
        {
            x.Grad = null;
            w.Grad = null;
            // h = x + x: add hands the same gradient to both of its inputs.
            var h = x.Add(x);
            // L = Σ h² + Σ hᵀ ⊙ w + Σ reshape(h) ⇒ dL/dh = 2h + wᵀ + 1, dL/dx = 2·dL/dh, dL/dw = hᵀ.
            var loss = h.Mul(h).Sum() + h.Transpose(0, 1).Mul(w).Sum() + h.Reshape(N * N).Sum();
            loss.Backward();
            var gx = x.Grad!.ToArray();
            var gw = w.Grad!.ToArray();
            for (int r = 0; r < N; r++)
            {
                for (int c = 0; c < N; c++)
                {
                    float hv = 2 * xs[(r * N) + c];
                    Assert.Equal(2 * ((2 * hv) + ws[(c * N) + r] + 1), gx[(r * N) + c]);
                    Assert.Equal(2 * xs[(c * N) + r], gw[(r * N) + c]);
                }
            }
        }
    }

    [Fact]
    public void CheckpointedAndRetainedBackwardsMatchThePlainOne()
    {
        var x = Leaf(i => MathF.Sin(i) * 0.1f);
        var w = Leaf(i => MathF.Cos(i) * 0.05f);
        Tensor Block(Tensor h) => h.Matmul(w).Silu().Add(h).Mul(h);

        // Two backwards into the same leaves: through one retained graph, or two fresh graphs.
        float[] Grads(bool checkpoint, bool twice, bool retain)
        {
            x.Grad = null;
            w.Grad = null;
            var y = checkpoint ? Checkpoint.Run(Block, x) : Block(x);
            var loss = y.Mul(y).Sum();
            loss.Backward(retainGraph: retain);
            if (twice && retain)
                loss.Backward();
            else if (twice)
            {
                var y2 = Block(x);
                y2.Mul(y2).Sum().Backward();
            }
            return [.. x.Grad!.ToArray(), .. w.Grad!.ToArray()];
        }

        var plain = Grads(false, false, false);
        var checkpointed = Grads(true, false, false);
        var freshTwice = Grads(false, true, false);
        for (int i = 0; i < plain.Length; i++)
            Assert.Equal(plain[i], checkpointed[i], 1e-6f); // leaf-side summation order differs
        for (int run = 0; run < 3; run++)
        {
            Assert.Equal(plain, Grads(false, false, false));
            Assert.Equal(checkpointed, Grads(true, false, false));
            Assert.Equal(freshTwice, Grads(false, true, true));
        }
    }

    [Fact]
    public void RecycledStorageIsClearedWhereGradientsAreZero()
    {
        // Dirty the pool with gradients of the sizes used below, then check that ignored
        // cross-entropy rows and the slices outside a narrow get exact zeros.
        var x = Leaf(i => MathF.Sin(i));
        for (int run = 0; run < 3; run++)
        {
            x.Grad = null;
            x.Mul(x).Mul(3f).Sum().Backward();
            x.Grad = null;
            var targets = Tensor.FromArray(Enumerable.Range(0, N).Select(r => r % 3 == 0 ? -100 : r).ToArray(), N);
            F.CrossEntropy(x.Mul(2f), targets).Backward();
            var g = x.Grad!.ToArray();
            for (int r = 0; r < N; r += 3)
                Assert.All(g.AsSpan(r * N, N).ToArray(), v => Assert.Equal(0f, v));
            Assert.Contains(g.AsSpan(N, N).ToArray(), v => v != 0);

            x.Grad = null;
            x.Mul(2f).Narrow(1, 5, N - 9).Exp().Sum().Backward();
            var gn = x.Grad!.ToArray();
            for (int r = 0; r < N; r++)
            {
                for (int c = 0; c < N; c++)
                {
                    bool inside = c >= 5 && c < N - 4;
                    Assert.Equal(inside, gn[(r * N) + c] != 0);
                }
            }
        }
    }

    [Fact]
    public void WeightGradientThroughTransposeIsExact()
    {
        // y = x · wᵀ: dL/dw is formed as gᵀ·x and handed back transposed; compare with the plain layout.
        var x = Leaf(i => (i % 11) - 5);
        var w = Leaf(i => (i % 7) * 0.25f);
        x.Matmul(w.T).Mul(x).Sum().Backward();
        var viaT = w.Grad!.ToArray();
        w.Grad = null;
        x.Grad = null;
        var wt = w.T.Contiguous().Detach();
        wt.RequiresGrad = true;
        x.Matmul(wt).Mul(x).Sum().Backward();
        var plain = wt.Grad!.T.Contiguous().ToArray();
        Assert.Equal(plain, viaT);
    }
}
