namespace RlhfSharp.Tensors.Tests;

/// <summary>Float64 storage: creation, exact round trips and conversions to and from the other dtypes.</summary>
public class Float64StorageTests
{
    private static ulong Bits(double d) => BitConverter.DoubleToUInt64Bits(d);

    private static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);

    /// <summary>Doubles that stress a conversion: specials, subnormals (of both types), float rounding ties and random bits.</summary>
    internal static double[] HardDoubles(int seed, int randomCount)
    {
        var list = new List<double>
        {
            0.0, -0.0, 1.0, -1.0, 0.1, 1e-300, -1e-300, 1.0 + Math.Pow(2, -52), double.Epsilon, -double.Epsilon,
            BitConverter.UInt64BitsToDouble(0x000F_FFFF_FFFF_FFFF), // largest double subnormal
            double.MaxValue, double.MinValue, double.PositiveInfinity, double.NegativeInfinity,
            float.MaxValue, -(double)float.MaxValue, Math.BitIncrement((double)float.MaxValue),
            (double)float.MaxValue + Math.Pow(2, 103), Math.BitDecrement((double)float.MaxValue + Math.Pow(2, 103)), // float overflow tie
            float.Epsilon, float.Epsilon / 2, Math.BitIncrement(float.Epsilon / 2), -(double)float.Epsilon / 2, 1e-40, 1.5e-45, 7e-46,
            1.0 + Math.Pow(2, -24), Math.BitIncrement(1.0 + Math.Pow(2, -24)), Math.BitDecrement(1.0 + Math.Pow(2, -24)), // float ties
            1.0 + (3 * Math.Pow(2, -24)), 16777217.0, -16777217.0, int.MaxValue, int.MinValue,
        };
        var rng = new Random(seed);
        for (int i = 0; i < randomCount; i++)
        {
            ulong sign = (ulong)rng.Next(2) << 63;
            ulong mantissa = (ulong)rng.NextInt64(1L << 52);
            ulong exponent = (i % 4) switch
            {
                0 => (ulong)rng.Next(2047),                // anything, subnormals included
                1 => (ulong)rng.Next(1023 - 160, 1023 + 129), // around the float range, float subnormals included
                2 => 0,                                    // double subnormals
                _ => (ulong)rng.Next(1023 - 30, 1023 + 30), // ordinary magnitudes
            };
            list.Add(BitConverter.UInt64BitsToDouble(sign | (exponent << 52) | mantissa));
        }
        list.Add(double.NaN);
        list.Add(-double.NaN);
        list.Add(BitConverter.UInt64BitsToDouble(0x7FF0_0000_0000_0001)); // signalling NaN payload
        return [.. list];
    }

    [Fact]
    public void RoundTripIsExact()
    {
        var values = HardDoubles(seed: 1, randomCount: 1000);
        var t = Tensor.FromArray(values);
        Assert.Equal(DType.Float64, t.Dtype);
        Assert.Equal([values.Length], t.Shape);
        var back = t.ToDoubleArray();
        Assert.Equal(values.Length, back.Length);
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
                Assert.True(double.IsNaN(back[i]), $"[{i}]"); // the payload is not part of the contract
            else
                Assert.Equal(Bits(values[i]), Bits(back[i]));
        }
        Assert.Equal(Bits(1e-300), Bits(Tensor.FromArray([1e-300]).ItemDouble()));
        Assert.Equal(Bits(1.0 + Math.Pow(2, -52)), Bits(Tensor.FromArray([1.0 + Math.Pow(2, -52)]).ItemDouble()));
        Assert.Equal(Bits(-0.0), Bits(Tensor.FromArray([-0.0]).ItemDouble()));
    }

    [Fact]
    public void FromArrayCopiesAndTakesAShape()
    {
        var src = new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 };
        var t = Tensor.FromArray(src, 2, 3);
        src[0] = 99;
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], t.ToDoubleArray());
        Assert.Equal(6.0, t.Select(0, 1).Select(0, 2).ItemDouble());

        var m = Tensor.FromArray(new[,] { { 1e-300, 2.5 }, { -3.0, 1.0 + Math.Pow(2, -52) }, { 5.0, 6.0 } });
        Assert.Equal(DType.Float64, m.Dtype);
        Assert.Equal([3, 2], m.Shape);
        Assert.Equal([1e-300, 2.5, -3.0, 1.0 + Math.Pow(2, -52), 5.0, 6.0], m.ToDoubleArray());

        var empty = Tensor.FromArray(new double[0, 4]);
        Assert.Equal([0, 4], empty.Shape);
        Assert.Empty(empty.ToDoubleArray());
        Assert.Equal([2, 0], Tensor.FromArray(Array.Empty<double>(), 2, 0).Shape);
        Assert.Equal(7.0, Tensor.FromArray([7.0], []).ItemDouble());
    }

    [Fact]
    public void MalformedInputThrowsLikeTheFloatOverload()
    {
        var d = Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray(new double[5], 2, 3));
        var f = Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray(new float[5], 2, 3));
        Assert.Equal(f.Message, d.Message);
        Assert.Contains("FromArray", d.Message);
        Assert.Contains("[2, 3]", d.Message);
        var negD = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new double[6], 2, -3));
        var negF = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new float[6], 2, -3));
        Assert.Equal(negF.GetType(), negD.GetType());
        Assert.Equal(negF.Message, negD.Message);
        Assert.Throws<ShapeMismatchException>(() => Tensor.FromArray(new double[3], 4));
    }

    [Fact]
    public void ItemDoubleNeedsOneElement()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Tensor.FromArray([1.0, 2.0]).ItemDouble());
        Assert.Contains("ItemDouble", ex.Message);
        Assert.Contains("[2]", ex.Message);
        Assert.Equal(3.0, Tensor.FromArray([3], 1, 1).ItemDouble());
        Assert.Equal(0.1f, Tensor.Scalar(0.1f).ItemDouble()); // exact widening of the float
    }

    [Fact]
    public void FloatIsTheCastBitForBit()
    {
        var values = HardDoubles(seed: 2, randomCount: 20000);
        var t = Tensor.FromArray(values);
        var f = t.Float();
        Assert.Equal(DType.Float32, f.Dtype);
        var got = f.ToArray();
        for (int i = 0; i < values.Length; i++)
            Assert.True(Bits((float)values[i]) == Bits(got[i]), $"[{i}] {values[i]:R}: (float) gives 0x{Bits((float)values[i]):X8}, Float() 0x{Bits(got[i]):X8}");
        var viaToArray = t.ToArray();
        var viaCopyTo = new float[values.Length];
        t.CopyTo(viaCopyTo);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(Bits((float)values[i]), Bits(viaToArray[i]));
            Assert.Equal(Bits((float)values[i]), Bits(viaCopyTo[i]));
            Assert.Equal(Bits((float)values[i]), Bits(t[i]));
        }
        Assert.Equal(Bits((float)values[5]), Bits(t.Narrow(0, 5, 1).Item()));
    }

    [Fact]
    public void FloatOfAViewIsTheCastOfTheViewedElements()
    {
        var values = HardDoubles(seed: 3, randomCount: 60).Take(60).ToArray();
        var t = Tensor.FromArray(values, 3, 4, 5).Permute(2, 0, 1).Narrow(1, 1, 2); // [5, 2, 4], non-contiguous
        Assert.False(t.IsContiguous);
        var expected = t.ToDoubleArray().Select(d => Bits((float)d)).ToArray();
        Assert.Equal(expected, t.Float().ToArray().Select(Bits).ToArray());
    }

    [Fact]
    public void DoubleOfFloat32IsExact()
    {
        var rng = new Random(4);
        var floats = new float[5000];
        for (int i = 0; i < floats.Length; i++)
            floats[i] = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(1L << 32));
        floats[0] = float.Epsilon;
        floats[1] = -float.MaxValue;
        floats[2] = -0f;
        floats[3] = float.PositiveInfinity;
        var t = Tensor.FromArray(floats);
        var d = t.Double();
        Assert.Equal(DType.Float64, d.Dtype);
        var back = d.ToDoubleArray();
        Assert.Equal(back, t.ToDoubleArray());
        for (int i = 0; i < floats.Length; i++)
        {
            if (float.IsNaN(floats[i]))
            {
                Assert.True(double.IsNaN(back[i]));
                continue;
            }
            Assert.Equal(Bits((double)floats[i]), Bits(back[i]));
            Assert.Equal(Bits(floats[i]), Bits((float)back[i])); // widening lost nothing
        }
        // Float() of Double() gives the original floats back (NaNs stay NaN).
        Assert.Equal(floats.Select(f => float.IsNaN(f) ? 0x7FC0_0000u : Bits(f)), d.Float().ToArray().Select(f => float.IsNaN(f) ? 0x7FC0_0000u : Bits(f)));
    }

    [Fact]
    public void DoubleOfOtherDtypes()
    {
        var ints = Tensor.FromArray([int.MinValue, -1, 0, 16777217, int.MaxValue]);
        Assert.Equal([int.MinValue, -1.0, 0.0, 16777217.0, int.MaxValue], ints.Double().ToDoubleArray());
        Assert.Equal([int.MinValue, -1.0, 0.0, 16777217.0, int.MaxValue], ints.ToDoubleArray());
        var bf = Tensor.FromBFloat16Bits([0x3F81, 0xC2F7, 0x0001, 0x7F7F], 2, 2);
        var expected = new[] { 1.0078125, -123.5, BFloat16.ToFloat(0x0001), BFloat16.ToFloat(0x7F7F) };
        Assert.Equal(expected, bf.Double().ToDoubleArray());
        Assert.Equal(expected, bf.ToDoubleArray());
        Assert.Equal([expected[0], expected[2]], bf.T.Select(0, 0).ToDoubleArray());

        var f64 = Tensor.FromArray([1.0, 2.0]);
        Assert.Same(f64, f64.Double());

        var leaf = Tensor.FromArray([1f, 2f]);
        leaf.RequiresGrad = true;
        var cut = leaf.Mul(3f).Double();
        Assert.False(cut.RequiresGrad);
        Assert.True(cut.IsLeaf);
        Assert.Equal([3.0, 6.0], cut.ToDoubleArray());
    }

    [Fact]
    public void ToInt32TruncatesTheDoubleItself()
    {
        var t = Tensor.FromArray([16777217.5, -2.7, 2.7, 0.0, -0.5, 2147483647.0]);
        Assert.Equal([16777217, -2, 2, 0, 0, int.MaxValue], t.ToInt32().ToIntArray());
    }

    [Fact]
    public void ToBFloat16RoundsTheDoubleOnce()
    {
        // 1 + 2^-8 is a bf16 tie; just above it rounds up. Via float32 it would land on the tie and go down to even.
        double above = 1.0 + Math.Pow(2, -8) + Math.Pow(2, -30);
        Assert.Equal(0x3F80, BFloat16.FromFloat((float)above)); // the double rounding this avoids
        Assert.Equal([(ushort)0x3F81, (ushort)0x3F80, (ushort)0x3F81], Tensor.FromArray([above, 1.0 + Math.Pow(2, -8), 1.0 + Math.Pow(2, -8) + Math.Pow(2, -52)]).ToBFloat16Bits());

        var values = new List<double>(HardDoubles(seed: 5, randomCount: 4000));
        var rng = new Random(6);
        for (int i = 0; i < 4000; i++)
        {
            // Ties between neighbouring bf16 values and the doubles right next to them.
            int mag = rng.Next(0x7F7F);
            double tie = (Bf16Value(mag) + Bf16Value(mag + 1)) / 2;
            double sign = rng.Next(2) == 0 ? 1 : -1;
            values.AddRange([sign * tie, sign * Math.BitIncrement(tie), sign * Math.BitDecrement(tie)]);
        }
        var bits = Tensor.FromArray([.. values]).ToBFloat16Bits();
        for (int i = 0; i < values.Count; i++)
            AssertNearestEvenBf16(values[i], bits[i]);
    }

    /// <summary>Value of a non-negative bf16 magnitude, with +inf standing for 2^128 (the next step after the largest finite).</summary>
    private static double Bf16Value(int mag) => mag == 0x7F80 ? Math.Pow(2, 128) : BFloat16.ToFloat((ushort)mag);

    /// <summary>Exact check that <paramref name="h"/> is the nearest-even bf16 of <paramref name="d"/>: d lies between the midpoints to its neighbours.</summary>
    private static void AssertNearestEvenBf16(double d, ushort h)
    {
        if (double.IsNaN(d))
        {
            Assert.True(float.IsNaN(BFloat16.ToFloat(h)), $"{d} -> 0x{h:X4}");
            return;
        }
        Assert.True(double.IsNegative(d) == ((h & 0x8000) != 0), $"sign of {d:R} -> 0x{h:X4}");
        double a = Math.Abs(d);
        int mag = h & 0x7FFF;
        Assert.True(mag <= 0x7F80, $"{d:R} -> NaN 0x{h:X4}");
        double lo = mag == 0 ? 0 : (Bf16Value(mag) + Bf16Value(mag - 1)) / 2;
        double hi = mag == 0x7F80 ? double.PositiveInfinity : (Bf16Value(mag) + Bf16Value(mag + 1)) / 2;
        bool even = (mag & 1) == 0;
        bool ok = even ? a >= lo && a <= hi : a > lo && a < hi;
        Assert.True(ok, $"{d:R} -> 0x{h:X4}, expected a value in ({lo:R}, {hi:R})");
    }
}
