using RlhfSharp.Tensors.Autograd;
using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class FunctionalAttentionTests
{
    /// <summary>Attention in double, one query at a time, with the end-aligned causal rule.</summary>
    private static double[] RefAttention(Tensor q, Tensor k, Tensor v, bool causal, Tensor? mask, double scale)
    {
        int bn = q.Size(0), hn = q.Size(1), tq = q.Size(2), d = q.Size(3);
        int hkv = k.Size(1), tk = k.Size(2), dv = v.Size(3);
        var (qs, ks, vs) = (q.ToArray(), k.ToArray(), v.ToArray());
        var m = mask?.ToArray();
        var o = new double[bn * hn * tq * dv];
        for (int b = 0; b < bn; b++)
            for (int h = 0; h < hn; h++)
            {
                int kh = h / (hn / hkv);
                for (int i = 0; i < tq; i++)
                {
                    var s = new double[tk];
                    var ok = new bool[tk];
                    for (int j = 0; j < tk; j++)
                    {
                        ok[j] = (!causal || j <= tk - tq + i) && (m is null || m[(b * tk) + j] != 0);
                        for (int e = 0; e < d; e++)
                            s[j] += (double)qs[((((b * hn) + h) * tq) + i) * d + e] * ks[((((b * hkv) + kh) * tk) + j) * d + e];
                        s[j] *= scale;
                    }
                    if (!ok.Any(x => x))
                        continue; // fully masked query: output 0
                    double max = s.Where((_, j) => ok[j]).Max();
                    var p = s.Select((x, j) => ok[j] ? Math.Exp(x - max) : 0).ToArray();
                    double sum = p.Sum();
                    for (int j = 0; j < tk; j++)
                        for (int e = 0; e < dv; e++)
                            o[((((b * hn) + h) * tq) + i) * dv + e] += p[j] / sum * vs[((((b * hkv) + kh) * tk) + j) * dv + e];
                }
            }
        return o;
    }

    public static TheoryData<int, int, int, int, int, int, bool, bool> Cases => new()
    {
        // B, H, Hkv, Tq, Tk, D, causal, padding
        { 2, 2, 2, 5, 5, 4, false, false },
        { 1, 2, 2, 5, 5, 4, true, false },
        { 2, 4, 2, 2, 5, 6, true, false },  // GQA, causal with Tq < Tk
        { 2, 2, 1, 1, 5, 4, true, true },   // one decode step over a cache
        { 2, 4, 2, 4, 4, 4, true, true },   // left padding: early queries see nothing
        { 1, 1, 1, 3, 1, 1, false, false },
        { 2, 2, 1, 70, 75, 4, true, true }, // several causal row blocks, the last one partial
        // Head dims that are multiples of 8 run the tiled kernels (AttentionKernels).
        { 2, 2, 2, 5, 5, 8, false, false },
        { 2, 4, 2, 9, 13, 8, true, true },  // GQA, Tq < Tk, padding, Tk not a multiple of 8
        { 1, 2, 2, 37, 37, 16, true, false }, // 4-row tiles with a partial last one; causal widths 8..40
        { 2, 2, 1, 70, 75, 32, true, true }, // full 4x4 tiles, and two backward row blocks of 64
    };

    private static (Tensor Q, Tensor K, Tensor V, Tensor? Mask) Inputs(int bn, int hn, int hkv, int tq, int tk, int d, bool padding, ulong seed)
    {
        var q = Randn(seed, bn, hn, tq, d);
        var k = Randn(seed + 1, bn, hkv, tk, d);
        var v = Randn(seed + 2, bn, hkv, tk, d);
        Tensor? mask = null;
        if (padding)
        {
            var m = new float[bn * tk];
            for (int b = 0; b < bn; b++)
                for (int j = 0; j < tk; j++)
                    m[(b * tk) + j] = j < 2 * b ? 0f : 1f; // batch row b is left-padded by 2b
            mask = Tensor.FromArray(m, bn, tk);
        }
        return (q, k, v, mask);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(int bn, int hn, int hkv, int tq, int tk, int d, bool causal, bool padding)
    {
        var (q, k, v, mask) = Inputs(bn, hn, hkv, tq, tk, d, padding, 80);
        var y = F.ScaledDotProductAttention(q, k, v, causal, mask);
        Assert.Equal(new[] { bn, hn, tq, d }, y.Shape);
        AssertClose(RefAttention(q, k, v, causal, mask, 1 / Math.Sqrt(d)), y.ToArray(), 1e-5);
        AssertClose(RefAttention(q, k, v, causal, mask, 0.3), F.ScaledDotProductAttention(q, k, v, causal, mask, scale: 0.3f).ToArray(), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCheckQueryKeyValue(int bn, int hn, int hkv, int tq, int tk, int d, bool causal, bool padding)
    {
        var (q, k, v, mask) = Inputs(bn, hn, hkv, tq, tk, d, padding, 81);
        GradCheck.Check(t => F.ScaledDotProductAttention(t[0], t[1], t[2], causal, mask), [q, k, v], maxPerInput: 24);
    }

    [Fact]
    public void ValueHeadDimMayDifferFromQueryKey()
    {
        // D 16 for q and k, Dv 8 for v: forward against the double reference, and the gradients.
        var q = Randn(87, 2, 2, 11, 16);
        var k = Randn(88, 2, 1, 11, 16);
        var v = Randn(89, 2, 1, 11, 8);
        var y = F.ScaledDotProductAttention(q, k, v, causal: true);
        Assert.Equal(new[] { 2, 2, 11, 8 }, y.Shape);
        AssertClose(RefAttention(q, k, v, true, null, 0.25), y.ToArray(), 1e-5);
        GradCheck.Check(t => F.ScaledDotProductAttention(t[0], t[1], t[2], causal: true), [q, k, v], maxPerInput: 24);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void FullyMaskedQueriesOutputZeroNotNaN(int d)
    {
        var (q, k, v, mask) = Inputs(2, 2, 2, 4, 4, d, true, 82);
        var y = F.ScaledDotProductAttention(q, k, v, causal: true, mask);
        var row = y.Select(0, 1).Select(1, 0).Select(0, 0).ToArray(); // batch 1 is padded at keys 0, 1
        Assert.All(row, x => Assert.Equal(0f, x));
        AssertAllFinite(y.ToArray());
    }

    [Theory]
    [InlineData(6)]
    [InlineData(8)]
    public void NoGradOutputIsIdenticalToGradPath(int d)
    {
        var (q, k, v, mask) = Inputs(2, 4, 2, 70, 72, d, true, 83);
        q.RequiresGrad = true;
        var withGrad = F.ScaledDotProductAttention(q, k, v, causal: true, mask);
        Assert.True(withGrad.RequiresGrad);
        Tensor noGrad;
        using (GradMode.NoGrad())
            noGrad = F.ScaledDotProductAttention(q, k, v, causal: true, mask);
        Assert.False(noGrad.RequiresGrad);
        Assert.Equal(withGrad.ToArray(), noGrad.ToArray());
    }

    [Fact]
    public void TransposedProjectionsAreReadInPlace()
    {
        // [B, T, H, D] projections viewed as [B, H, T, D], as a model produces them.
        var q = Randn(84, 2, 5, 4, 6).Transpose(1, 2);
        var k = Randn(85, 2, 5, 2, 6).Transpose(1, 2);
        var v = Randn(86, 2, 5, 2, 6).Transpose(1, 2);
        Assert.Equal(
            F.ScaledDotProductAttention(q.Contiguous(), k.Contiguous(), v.Contiguous(), causal: true).ToArray(),
            F.ScaledDotProductAttention(q, k, v, causal: true).ToArray());
    }

    [Fact]
    public void LongCaseSpansSeveralCausalRowBlocks()
    {
        // The T = 70 case above only tests block boundaries if a block is shorter than that.
        Assert.InRange(F.CausalRowBlock, 1, 34);
    }

    [Fact]
    public void ShapeErrorsNameOpAndShapes()
    {
        var q = Tensor.Zeros(1, 3, 2, 4);
        var kv = Tensor.Zeros(1, 2, 5, 4);
        var ex = Assert.Throws<ShapeMismatchException>(() => F.ScaledDotProductAttention(q, kv, kv));
        Assert.Equal("ScaledDotProductAttention", ex.Op);
        Assert.Contains("[1, 3, 2, 4]", ex.Message);
        Assert.Contains("[1, 2, 5, 4]", ex.Message);
        var q2 = Tensor.Zeros(1, 2, 2, 4);
        Assert.Throws<ShapeMismatchException>(() => F.ScaledDotProductAttention(q2, kv, kv, keyPaddingMask: Tensor.Ones(1, 4)));
        Assert.Throws<ShapeMismatchException>(() => F.ScaledDotProductAttention(q2, Tensor.Zeros(1, 2, 5, 3), kv));
    }
}
