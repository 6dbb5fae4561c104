namespace RlhfSharp.Tensors.Tests;

public class CoreBFloat16Tests
{
    private static float Bits(uint b) => BitConverter.UInt32BitsToSingle(b);

    [Theory]
    [InlineData(0x3F80_0000u, (ushort)0x3F80)] // 1.0 exactly
    [InlineData(0x3F80_7FFFu, (ushort)0x3F80)] // just below half an ulp: down
    [InlineData(0x3F80_8000u, (ushort)0x3F80)] // exactly half, even below: stays even
    [InlineData(0x3F80_8001u, (ushort)0x3F81)] // just above half: up
    [InlineData(0x3F81_8000u, (ushort)0x3F82)] // exactly half, odd below: up to even
    [InlineData(0xBF81_8000u, (ushort)0xBF82)] // sign does not change the rounding of the magnitude
    [InlineData(0x0000_8000u, (ushort)0x0000)] // subnormal tie to even (zero)
    [InlineData(0x0001_8000u, (ushort)0x0002)] // subnormal tie to even (up)
    [InlineData(0x7F7F_7FFFu, (ushort)0x7F7F)] // largest finite bf16 survives
    [InlineData(0x7F7F_8000u, (ushort)0x7F80)] // tie at the top rounds to even: +inf
    [InlineData(0x7F7F_FFFFu, (ushort)0x7F80)] // float.MaxValue overflows to +inf
    [InlineData(0x7F80_0000u, (ushort)0x7F80)] // +inf
    [InlineData(0xFF80_0000u, (ushort)0xFF80)] // -inf
    [InlineData(0x8000_0000u, (ushort)0x8000)] // -0
    public void RoundsToNearestEven(uint input, ushort expected)
    {
        Assert.Equal(expected, BFloat16.FromFloat(Bits(input)));
    }

    [Theory]
    [InlineData(0x7FC0_0000u)]
    [InlineData(0x7F80_0001u)] // payload only in the low bits: must not become inf
    [InlineData(0xFF80_0001u)]
    [InlineData(0x7FFF_FFFFu)] // rounding must not carry into the sign
    public void NaNStaysNaN(uint input)
    {
        ushort h = BFloat16.FromFloat(Bits(input));
        Assert.True(float.IsNaN(BFloat16.ToFloat(h)), $"0x{input:X8} -> 0x{h:X4}");
        Assert.Equal(input >> 31, (uint)h >> 15);
    }

    [Fact]
    public void RoundTripRelativeErrorAtMostTwoToMinusEight()
    {
        var g = new Generator(31);
        var x = g.Normal([4096], std: 100f);
        var y = x.ToBFloat16();
        Assert.Equal(DType.BFloat16, y.Dtype);
        var back = y.Float().ToArray();
        var xs = x.ToArray();
        for (int i = 0; i < xs.Length; i++)
            Assert.True(Math.Abs(back[i] - xs[i]) <= Math.Abs(xs[i]) / 256.0, $"{xs[i]} -> {back[i]}");
        Assert.Equal(back, y.ToBFloat16().Float().ToArray()); // idempotent
        var special = Tensor.FromArray([float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f]).ToBFloat16().ToArray();
        Assert.Equal(float.PositiveInfinity, special[0]);
        Assert.Equal(float.NegativeInfinity, special[1]);
        Assert.True(float.IsNaN(special[2]));
        Assert.Equal(0f, special[3]);
    }

    [Fact]
    public void SpanConversionsMatchScalar()
    {
        var g = new Generator(32);
        var x = g.Normal([37]).ToArray();
        var h = new ushort[37];
        BFloat16.FromFloat(x, h);
        Assert.Equal(x.Select(BFloat16.FromFloat).ToArray(), h);
        var f = new float[37];
        BFloat16.ToFloat(h, f);
        Assert.Equal(h.Select(BFloat16.ToFloat).ToArray(), f);
        Assert.Throws<ArgumentException>(() => BFloat16.FromFloat(x, new ushort[3]));
        Assert.Throws<ArgumentException>(() => BFloat16.ToFloat(h, new float[3]));
    }

    [Fact]
    public void MatmulWithBf16WeightsEqualsFp32OnRoundedWeights()
    {
        var g = new Generator(33);
        var x = g.Normal([3, 7]);
        var w = g.Normal([7, 5]);
        var wh = w.ToBFloat16();
        var wr = wh.Float();
        CoreRef.Close(x.Matmul(wr).ToArray(), x.Matmul(wh).ToArray(), 1e-6, 1e-6, "2-D");
        var wt = g.Normal([5, 7]).ToBFloat16(); // stored [out, in], used transposed
        CoreRef.Close(x.Matmul(wt.Float().T).ToArray(), x.Matmul(wt.T).ToArray(), 1e-6, 1e-6, "transposed");
        var xb = g.Normal([2, 3, 7]);
        CoreRef.Close(xb.Matmul(wr).ToArray(), xb.Matmul(wh).ToArray(), 1e-6, 1e-6, "batched");
        var wb = g.Normal([2, 7, 4]).ToBFloat16();
        CoreRef.Close(xb.Matmul(wb.Float()).ToArray(), xb.Matmul(wb).ToArray(), 1e-6, 1e-6, "batched weights");

        x.RequiresGrad = true;
        x.Matmul(wh).Sum().Backward();
        var gradBf = x.Grad!.ToArray();
        x.Grad = null;
        x.Matmul(wr).Sum().Backward();
        CoreRef.Close(x.Grad!.ToArray(), gradBf, 1e-6, 1e-6, "grad");
    }
}
