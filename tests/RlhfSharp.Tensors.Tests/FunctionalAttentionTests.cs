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
    public void FullyMaskedQueriesOutputZeroNotNaN()
    {
        var (q, k, v, mask) = Inputs(2, 2, 2, 4, 4, 4, true, 82);
        var y = F.ScaledDotProductAttention(q, k, v, causal: true, mask);
        var row = y.Select(0, 1).Select(1, 0).Select(0, 0).ToArray(); // batch 1 is padded at keys 0, 1
        Assert.All(row, x => Assert.Equal(0f, x));
        AssertAllFinite(y.ToArray());
    }

    [Fact]
    public void NoGradOutputIsIdenticalToGradPath()
    {
        var (q, k, v, mask) = Inputs(2, 4, 2, 70, 72, 6, true, 83);
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
