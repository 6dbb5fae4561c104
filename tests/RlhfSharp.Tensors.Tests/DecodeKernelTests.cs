using System.Runtime.Intrinsics;
using RlhfSharp.Tensors.Kernels;
using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

/// <summary>The single-token decoding kernels against the plain tensor ops they stand in for.</summary>
public class DecodeKernelTests
{
    public static TheoryData<int> Widths()
    {
        var widths = new TheoryData<int> { 0 };
        if (Vector256.IsHardwareAccelerated)
            widths.Add(256);
        if (Vector512.IsHardwareAccelerated)
            widths.Add(512);
        return widths;
    }

    private static void Close(float[] want, float[] got, float tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= tol * (1 + Math.Abs(want[i])), $"{what}: [{i}] want {want[i]}, got {got[i]}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MatmulMatchesLinearAtOddSizesAndEveryWidth(int width)
    {
        ulong seed = 1;
        foreach (int m in new[] { 1, 3, 4, 8, 9 })
        {
            foreach (int k in new[] { 1, 3, 8, 17, 129 })
            {
                foreach (int n in new[] { 1, 2, 3, 17 })
                {
                    var x = Randn(seed++, m, k);
                    var w = Randn(seed++, n, k);
                    var b = Randn(seed++, n);
                    var want = x.Matmul(w.T).Add(b).ToArray();
                    var y = new float[m * n];
                    DecodeMatmul.Forward(x.ToArray(), m, w, b, y, maxWidth: width);
                    Close(want, y, 1e-5f, $"m={m} k={k} n={n}");

                    // Accumulating adds the product to what y holds (the fused residual add).
                    var resid = Randn(seed++, m, n);
                    var acc = resid.ToArray();
                    DecodeMatmul.Forward(x.ToArray(), m, w, null, acc, accumulate: true, maxWidth: width);
                    Close(resid.Add(x.Matmul(w.T)).ToArray(), acc, 1e-5f, $"accumulate m={m} k={k} n={n}");
                }
            }
        }
    }

    [Fact]
    public void MatmulSplitAcrossThreadsMatchesOneThread()
    {
        // Large enough to be split across the threads: every column is computed the same way either way.
        var x = Randn(3, 8, 256);
        var w = Randn(4, 777, 256);
        var split = new float[8 * 777];
        DecodeMatmul.Forward(x.ToArray(), 8, w, null, split);
        var one = new float[8 * 777];
        DecodeMatmul.Columns(x.ToArray(), 8, 256, w.ToArray(), default, one, 777, 0, 777, false, 512);
        Assert.Equal(one, split);
        Close(x.Matmul(w.T).ToArray(), split, 1e-4f, "split");
    }

    [Fact]
    public void PackedWeightMatchesLinearAtOddSizesAndIsTheSameAtEveryWidth()
    {
        ulong seed = 100;
        foreach (int m in new[] { 1, 3, 8, 9, 17 })
        {
            foreach (int k in new[] { 1, 3, 17, 129 })
            {
                foreach (int n in new[] { 1, 5, 32, 33, 70 })
                {
                    var x = Randn(seed++, m, k);
                    var w = Randn(seed++, n, k);
                    var b = Randn(seed++, n);
                    var packed = new DecodePackedWeight(w, b);
                    var want = x.Matmul(w.T).Add(b).ToArray();
                    float[]? first = null;
                    foreach (int width in new[] { 0, 256, 512 })
                    {
                        var y = new float[m * n];
                        packed.Forward(x.ToArray(), m, y, maxWidth: width);
                        Close(want, y, 1e-5f, $"m={m} k={k} n={n} width={width}");
                        // Every width runs the same chain of fused multiply-adds per output.
                        if (first is null)
                            first = y;
                        else
                            Assert.Equal(first, y);
                    }
                    var resid = Randn(seed++, m, n);
                    var acc = resid.ToArray();
                    new DecodePackedWeight(w, null).Forward(x.ToArray(), m, acc, accumulate: true);
                    Close(resid.Add(x.Matmul(w.T)).ToArray(), acc, 1e-5f, $"accumulate m={m} k={k} n={n}");
                }
            }
        }
    }

    [Fact]
    public void PackedWeightSplitAcrossThreadsMatchesOneThread()
    {
        var x = Randn(5, 8, 256);
        var w = Randn(6, 777, 256);
        var packed = new DecodePackedWeight(w, null);
        var split = new float[8 * 777];
        packed.Forward(x.ToArray(), 8, split);
        // The first 64 columns alone are below the threading threshold: one thread computes them.
        var head = new DecodePackedWeight(w.Narrow(0, 0, 64).Contiguous(), null);
        var one = new float[8 * 64];
        head.Forward(x.ToArray(), 8, one);
        for (int r = 0; r < 8; r++)
            Assert.Equal(one.AsSpan(r * 64, 64).ToArray(), split.AsSpan(r * 777, 64).ToArray());
        Assert.Throws<ShapeMismatchException>(() => packed.Forward(new float[10], 8, split));
    }

    [Fact]
    public void NormsMatchTheFunctionalNorms()
    {
        foreach (int c in new[] { 1, 3, 17, 64 })
        {
            var x = Randn(10, 3, c);
            var w = Randn(11, c);
            var bias = Randn(12, c);
            var y = new float[3 * c];
            DecodeKernels.RmsNorm(x.ToArray(), 3, w, 1e-6f, y);
            Close(F.RmsNorm(x, w, 1e-6f).ToArray(), y, 1e-6f, $"rms c={c}");
            DecodeKernels.LayerNorm(x.ToArray(), 3, w, bias, 1e-5f, y);
            Close(F.LayerNorm(x, w, bias, 1e-5f).ToArray(), y, 1e-6f, $"layernorm c={c}");
        }
    }

    [Theory]
    [InlineData(8, null)]
    [InlineData(6, 4)]
    public void RopeMatchesFunctionalRopeInPlace(int d, int? rotary)
    {
        int b = 3, h = 2;
        var cache = new RopeCache(d, 64, 10000f, rotary);
        var x = Randn(20, b, h, 1, d);                       // [B, H, 1, D]
        var pos = Tensor.FromArray(new[] { 0, 5, 63 }, b, 1);
        var want = F.Rope(x, pos, cache).ToArray();          // rows [B, H·D] in the same order
        var rows = x.ToArray();
        DecodeKernels.Rope(rows, 0, h * d, h, [0, 5, 63], cache);
        Close(want, rows, 1e-6f, "rope");
        Assert.Throws<IndexOutOfRangeException>(() => DecodeKernels.Rope(rows, 0, h * d, h, [0, 5, 64], cache));
    }

    [Theory]
    [InlineData(1, 2, 2, 8)]
    [InlineData(3, 4, 2, 5)]
    [InlineData(3, 6, 2, 16)]
    [InlineData(8, 8, 1, 32)]
    public void AttendMatchesScaledDotProductAttentionWithGroupsAndPadding(int b, int h, int hkv, int d)
    {
        int cap = 40;
        foreach (int len in new[] { 1, 2, 17, 40 })
        {
            var q = Randn(30, b, h, 1, d);
            var kCache = Randn(31, b, hkv, cap, d);
            var vCache = Randn(32, b, hkv, cap, d);
            // Row 0 sees everything; others are left padded by r positions (never all of them), and
            // row 2 (when there is one) also masks its own newest key, as an ended row does.
            var mask = new float[b * cap];
            for (int r = 0; r < b; r++)
            {
                for (int j = 0; j < len; j++)
                    mask[(r * cap) + j] = j >= Math.Min(r, len - 1) ? 1f : 0f;
            }
            if (b > 2 && len > 1)
                mask[(2 * cap) + len - 1] = 0f;
            var k = kCache.Narrow(2, 0, len);
            var v = vCache.Narrow(2, 0, len);
            var maskT = Tensor.FromArray(mask, b, cap).Narrow(1, 0, len).Contiguous();
            var want = F.ScaledDotProductAttention(q, k, v, causal: true, keyPaddingMask: maskT).ToArray();
            foreach (int width in new[] { 0, 256, 512 })
            {
                var y = new float[b * h * d];
                DecodeKernels.Attend(q.ToArray(), 0, h * d, h, kCache, vCache, len, mask, cap, y, new float[Engine.Threads * cap], width);
                Close(want, y, 1e-5f, $"b={b} h={h} hkv={hkv} d={d} len={len} width={width}");
            }
        }
    }

    [Fact]
    public void AttendGivesZerosToARowWithNothingToAttend()
    {
        var q = Randn(40, 2, 2, 1, 4);
        var kc = Randn(41, 2, 1, 5, 4);
        var vc = Randn(42, 2, 1, 5, 4);
        var mask = new float[] { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 };
        var y = new float[2 * 2 * 4];
        DecodeKernels.Attend(q.ToArray(), 0, 8, 2, kc, vc, 3, mask, 5, y, new float[Engine.Threads * 5]);
        var want = F.ScaledDotProductAttention(q, kc.Narrow(2, 0, 3), vc.Narrow(2, 0, 3), keyPaddingMask: Tensor.FromArray(mask, 2, 5).Narrow(1, 0, 3).Contiguous()).ToArray();
        Close(want, y, 1e-5f, "masked");
        Assert.All(y.AsSpan(8, 8).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void WriteCacheAndGatherPlaceRowsWhereTheTensorOpsWould()
    {
        int b = 3, hkv = 2, len = 7, d = 5;
        var cache = Tensor.Zeros(b, hkv, len, d);
        var rows = Randn(50, b, hkv * d);
        DecodeKernels.WriteCache(rows.ToArray(), 0, hkv * d, cache, 4);
        var at4 = cache.Narrow(2, 4, 1).Contiguous().Reshape(b, hkv * d).ToArray();
        Assert.Equal(rows.ToArray(), at4);
        Assert.Equal(0f, cache.Narrow(2, 3, 1).Abs().Sum().Item());
        Assert.Throws<IndexOutOfRangeException>(() => DecodeKernels.WriteCache(rows.ToArray(), 0, hkv * d, cache, 7));

        var table = Randn(51, 9, 6);
        var ids = new[] { 8, 0, 3 };
        var y = new float[3 * 6];
        DecodeKernels.Gather(table, ids, y);
        Assert.Equal(F.Embedding(table, Tensor.FromArray(ids, 3)).ToArray(), y);
        Assert.Throws<IndexOutOfRangeException>(() => DecodeKernels.Gather(table, [9], y));
    }

    [Fact]
    public void ActivationsMatchTheTensorOps()
    {
        var x = Randn(60, 37);
        var a = x.ToArray();
        DecodeKernels.GeluTanh(a, 37);
        Close(x.Gelu(GeluApproximation.Tanh).ToArray(), a, 1e-6f, "gelu");
        a = x.ToArray();
        DecodeKernels.Silu(a, 37);
        Close(x.Silu().ToArray(), a, 1e-6f, "silu");
        a = x.ToArray();
        DecodeKernels.Relu(a, 37);
        Close(x.Relu().ToArray(), a, 0f, "relu");
        var up = Randn(61, 37);
        var g = new float[37];
        DecodeKernels.SwiGlu(x.ToArray(), up.ToArray(), 37, g);
        Close(x.Silu().Mul(up).ToArray(), g, 1e-6f, "swiglu");
    }
}
