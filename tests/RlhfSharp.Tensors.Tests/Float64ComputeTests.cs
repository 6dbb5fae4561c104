using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Ops with a float64 path give, on Float64 tensors, exactly the bits of the same plain C# double
/// arithmetic: element-wise ops (broadcast, mixed with float32, with scalars), unary maps,
/// Where/MaskedFill and sequential Sum/Mean.
/// </summary>
public class Float64ComputeTests
{
    private const int B = 5, T = 7;

    private static long Bits(double d) => BitConverter.DoubleToInt64Bits(d);

    /// <summary>A 0-d Float64 tensor.</summary>
    private static Tensor Scalar64(double v) => Tensor.FromArray([v]).Reshape();

    /// <summary>Doubles float32 would round or lose: near 1, tiny, huge, subnormal, zeros, infinities, NaN and random magnitudes.</summary>
    private static double[] Values(int seed, int n)
    {
        double[] special =
        [
            1.0 + Math.Pow(2, -40), 1.0 - Math.Pow(2, -45), 1e-300, -1e-300, 1e300, -3e250, 0.1, 1.0 / 3, -0.0, 0.0,
            double.Epsilon, 2.5e-320, 16777217.0, Math.PI, -Math.E, double.PositiveInfinity, double.NegativeInfinity, double.NaN,
        ];
        var rng = new Random(seed);
        var result = new double[n];
        for (int i = 0; i < n; i++)
        {
            result[i] = rng.Next(4) == 0
                ? special[rng.Next(special.Length)]
                : (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 31));
        }
        return result;
    }

    /// <summary>Positive doubles (for Log, Sqrt, Pow), none of them exactly representable in float32.</summary>
    private static double[] Positive(int seed, int n) =>
        [.. Values(seed, n).Select(v => double.IsFinite(v) && v != 0 ? Math.Abs(v) : 1.0 + Math.Pow(2, -40))];

    private static float[] Floats(int seed, int n)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9))))];
    }

    private static void AssertBits(double[] expected, int[] shape, Tensor actual)
    {
        Assert.Equal(DType.Float64, actual.Dtype);
        Assert.Equal(shape, actual.Shape);
        Assert.False(actual.RequiresGrad);
        var got = actual.ToDoubleArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Bits(expected[i]) == Bits(got[i]), $"[{i}] expected {expected[i]:R} (0x{Bits(expected[i]):X16}), got {got[i]:R} (0x{Bits(got[i]):X16})");
    }

    /// <summary>The plain-C# expectation of a ∘ b over [B, T], with a(b, t) and b(b, t) reading the broadcast operands.</summary>
    private static double[] Expect(Func<int, int, double> a, Func<int, int, double> b, Func<double, double, double> op)
    {
        var result = new double[B * T];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < T; j++)
                result[(i * T) + j] = op(a(i, j), b(i, j));
        return result;
    }

    public static TheoryData<string> BinaryOps => ["add", "sub", "mul", "div", "maximum", "minimum"];

    private static Func<double, double, double> Plain(string op) => op switch
    {
        "add" => (x, y) => x + y,
        "sub" => (x, y) => x - y,
        "mul" => (x, y) => x * y,
        "div" => (x, y) => x / y,
        "maximum" => Math.Max,
        _ => Math.Min,
    };

    private static Tensor Apply(string op, Tensor a, Tensor b) => op switch
    {
        "add" => a.Add(b),
        "sub" => a.Sub(b),
        "mul" => a.Mul(b),
        "div" => a.Div(b),
        "maximum" => a.Maximum(b),
        _ => a.Minimum(b),
    };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BinaryMatchesDoubleArithmeticWithBroadcasting(string op)
    {
        var f = Plain(op);
        var x = Values(1, B * T);
        var y = Values(2, B * T);
        var col = Values(3, B);
        var row = Values(4, T);
        var tx = Tensor.FromArray(x, B, T);
        AssertBits(Expect((i, j) => x[(i * T) + j], (i, j) => y[(i * T) + j], f), [B, T], Apply(op, tx, Tensor.FromArray(y, B, T)));
        AssertBits(Expect((i, j) => x[(i * T) + j], (i, _) => col[i], f), [B, T], Apply(op, tx, Tensor.FromArray(col, B, 1)));
        AssertBits(Expect((i, _) => col[i], (i, j) => x[(i * T) + j], f), [B, T], Apply(op, Tensor.FromArray(col, B, 1), tx));
        AssertBits(Expect((i, j) => x[(i * T) + j], (_, j) => row[j], f), [B, T], Apply(op, tx, Tensor.FromArray(row, T)));
        AssertBits(Expect((i, j) => x[(i * T) + j], (_, _) => row[2], f), [B, T], Apply(op, tx, Scalar64(row[2])));
        AssertBits(Expect((_, _) => row[3], (i, j) => x[(i * T) + j], f), [B, T], Apply(op, Scalar64(row[3]), tx));
        // A transposed (non-contiguous) operand and a [B, 1] × [1, T] outer broadcast.
        var ty = Tensor.FromArray(y, T, B).T;
        AssertBits(Expect((i, j) => x[(i * T) + j], (i, j) => y[(j * B) + i], f), [B, T], Apply(op, tx, ty));
        AssertBits(Expect((i, _) => col[i], (_, j) => row[j], f), [B, T], Apply(op, Tensor.FromArray(col, B, 1), Tensor.FromArray(row, 1, T)));
        // Scalar result and empty result.
        AssertBits([f(x[0], y[0])], [], Apply(op, Scalar64(x[0]), Scalar64(y[0])));
        AssertBits([], [0, T], Apply(op, Tensor.FromArray(Array.Empty<double>(), 0, T), Tensor.FromArray(row, T)));
    }

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void MixedOperandsAreWidenedExactly(string op)
    {
        var f = Plain(op);
        var x = Values(5, B * T);
        var tx = Tensor.FromArray(x, B, T);
        var fl = Floats(6, B * T);
        var fcol = Floats(7, B);
        var ints = Enumerable.Range(-17, T).Select(v => v * 1_000_003).ToArray();
        AssertBits(Expect((i, j) => x[(i * T) + j], (i, j) => fl[(i * T) + j], f), [B, T], Apply(op, tx, Tensor.FromArray(fl, B, T)));
        AssertBits(Expect((i, j) => fl[(i * T) + j], (i, j) => x[(i * T) + j], f), [B, T], Apply(op, Tensor.FromArray(fl, B, T), tx));
        AssertBits(Expect((i, j) => x[(i * T) + j], (i, _) => fcol[i], f), [B, T], Apply(op, tx, Tensor.FromArray(fcol, B, 1)));
        AssertBits(Expect((i, j) => x[(i * T) + j], (_, j) => ints[j], f), [B, T], Apply(op, tx, Tensor.FromArray(ints, T)));
        var bf = Tensor.FromArray(fl, B, T).ToBFloat16();
        var bfv = bf.ToArray();
        AssertBits(Expect((i, j) => bfv[(i * T) + j], (i, j) => x[(i * T) + j], f), [B, T], Apply(op, bf, tx));
        AssertBits(Expect((i, j) => x[(i * T) + j], (_, _) => 0.1f, f), [B, T], Apply(op, tx, Tensor.Scalar(0.1f)));
    }

    [Fact]
    public void ScalarOverloadsAndOperators()
    {
        var x = Values(8, B * T);
        var t = Tensor.FromArray(x, B, T);
        double s = 1.0 + Math.Pow(2, -40);
        float sf = 0.1f;
        double[] Each(Func<double, double> g) => [.. x.Select(g)];
        AssertBits(Each(v => v + s), [B, T], t.Add(s));
        AssertBits(Each(v => v - s), [B, T], t.Sub(s));
        AssertBits(Each(v => v * s), [B, T], t.Mul(s));
        AssertBits(Each(v => v / s), [B, T], t.Div(s));
        AssertBits(Each(v => v + sf), [B, T], t.Add(sf));
        AssertBits(Each(v => v - sf), [B, T], t.Sub(sf));
        AssertBits(Each(v => v * sf), [B, T], t.Mul(sf));
        AssertBits(Each(v => v / sf), [B, T], t.Div(sf));
        AssertBits(Each(v => v + 1e-300), [B, T], t + 1e-300);
        AssertBits(Each(v => 1e-300 + v), [B, T], 1e-300 + t);
        AssertBits(Each(v => v - s), [B, T], t - s);
        AssertBits(Each(v => s - v), [B, T], s - t);
        AssertBits(Each(v => v * s), [B, T], t * s);
        AssertBits(Each(v => s * v), [B, T], s * t);
        AssertBits(Each(v => v / s), [B, T], t / s);
        AssertBits(Each(v => s / v), [B, T], s / t);
        AssertBits(Each(v => v - sf), [B, T], t - sf);
        AssertBits(Each(v => sf - v), [B, T], sf - t);
        AssertBits(Each(v => sf / v), [B, T], sf / t);
        AssertBits(Each(v => v * 2), [B, T], t * 2);
        AssertBits(Each(v => -v), [B, T], -t);
        var u = Tensor.FromArray(Values(9, B * T), B, T);
        var y = u.ToDoubleArray();
        AssertBits([.. x.Zip(y, (a, b) => (a * b) - (a / b) + a)], [B, T], (t * u) - (t / u) + t);
    }

    [Fact]
    public void UnaryOpsMatchMath()
    {
        var x = Values(10, B * T);
        var p = Positive(11, B * T);
        var t = Tensor.FromArray(x, B, T);
        var tp = Tensor.FromArray(p, B, T);
        AssertBits([.. x.Select(v => -v)], [B, T], t.Neg());
        AssertBits([.. x.Select(Math.Exp)], [B, T], t.Exp());
        AssertBits([.. x.Select(Math.Abs)], [B, T], t.Abs());
        AssertBits([.. x.Select(v => Math.Log(v))], [B, T], t.Log());
        AssertBits([.. x.Select(Math.Sqrt)], [B, T], t.Sqrt());
        AssertBits([.. p.Select(v => Math.Log(v))], [B, T], tp.Log());
        AssertBits([.. p.Select(Math.Sqrt)], [B, T], tp.Sqrt());
        foreach (var e in new[] { 2f, 0.5f, -1.5f, 3f, 0.1f, 0f })
            AssertBits([.. p.Select(v => Math.Pow(v, e))], [B, T], tp.Pow(e));
        AssertBits([.. x.Select(v => Math.Min(Math.Max(v, -0.1f), 1e3f))], [B, T], t.Clamp(-0.1f, 1e3f));
        AssertBits([.. x.Select(v => Math.Max(v, 1e-300))], [B, T], t.Clamp(1e-300, null));
        AssertBits([.. x.Select(v => Math.Min(v, 1.0 + Math.Pow(2, -40)))], [B, T], t.Clamp(null, 1.0 + Math.Pow(2, -40)));
        Assert.Throws<ArgumentException>(() => t.Clamp(1.0 + Math.Pow(2, -40), 1.0));
        // A transposed view maps in its own row-major order.
        var view = Tensor.FromArray(x, T, B).T;
        var expected = new double[B * T];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < T; j++)
                expected[(i * T) + j] = Math.Exp(x[(j * B) + i]);
        AssertBits(expected, [B, T], view.Exp());
    }

    [Fact]
    public void WhereAndMaskedFillAreExact()
    {
        var x = Values(12, B * T);
        var col = Values(13, B);
        var fl = Floats(14, B * T);
        var rng = new Random(15);
        var mask = Enumerable.Range(0, B * T).Select(_ => rng.Next(2) == 0 ? 0f : 1f).ToArray();
        var tm = Tensor.FromArray(mask, B, T);
        var t = Tensor.FromArray(x, B, T);
        bool M(int i, int j) => mask[(i * T) + j] != 0;
        AssertBits(Expect((i, j) => M(i, j) ? x[(i * T) + j] : col[i], (_, _) => 0, (a, _) => a), [B, T], Tensor.Where(tm, t, Tensor.FromArray(col, B, 1)));
        AssertBits(Expect((i, j) => M(i, j) ? fl[(i * T) + j] : x[(i * T) + j], (_, _) => 0, (a, _) => a), [B, T], Tensor.Where(tm, Tensor.FromArray(fl, B, T), t));
        AssertBits(Expect((i, j) => M(i, j) ? 0.1f : x[(i * T) + j], (_, _) => 0, (a, _) => a), [B, T], Tensor.Where(tm, Tensor.Scalar(0.1f), t));
        AssertBits(Expect((i, j) => M(i, j) ? 1e-300 : x[(i * T) + j], (_, _) => 0, (a, _) => a), [B, T], t.MaskedFill(tm, 1e-300));
        AssertBits(Expect((i, j) => M(i, j) ? 0.1f : x[(i * T) + j], (_, _) => 0, (a, _) => a), [B, T], t.MaskedFill(tm, 0.1f));
        AssertBits(Expect((i, j) => mask[j] != 0 ? double.NegativeInfinity : x[(i * T) + j], (_, _) => 0, (a, _) => a), [B, T], t.MaskedFill(Tensor.FromArray(mask[..T], T), double.NegativeInfinity));
    }

    /// <summary>Rows whose sums depend on the order of summation: 1e16 + 1 − 1e16 is 0 sequentially but 1 paired differently.</summary>
    private static double[] OrderSensitive(int rows, int n, int seed)
    {
        double[] pattern = [1e16, 1, -1e16, 1, 3, -1e16, 1e16, 0.5, 1.0 + Math.Pow(2, -40), 1e-300];
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, rows * n).Select(i => (pattern[(i + rng.Next(3)) % pattern.Length] * (1 + (rng.Next(5) * 0.25))) + ((i % 7) == 3 ? 0.125 : 0))];
    }

    private static double Sequential(IEnumerable<double> values)
    {
        double acc = 0;
        foreach (var v in values)
            acc += v;
        return acc;
    }

    private static double Pairwise(ReadOnlySpan<double> v) => v.Length switch
    {
        0 => 0,
        1 => v[0],
        _ => Pairwise(v[..(v.Length / 2)]) + Pairwise(v[(v.Length / 2)..]),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(129)]
    public void SumAndMeanAreSequentialInRowMajorOrder(int n)
    {
        const int R = 3;
        var x = OrderSensitive(R, n, seed: n);
        var t = Tensor.FromArray(x, R, n);
        double all = Sequential(x);
        AssertBits([all], [], t.Sum());
        AssertBits([all / (R * n)], [], t.Mean());
        AssertBits([all], [], t.Sum([0, 1]));
        AssertBits([all / (R * n)], [1, 1], t.Mean([0, 1], keepDim: true));
        var rowSums = Enumerable.Range(0, R).Select(r => Sequential(x.Skip(r * n).Take(n))).ToArray();
        AssertBits(rowSums, [R], t.Sum(1));
        AssertBits(rowSums, [R, 1], t.Sum(1, keepDim: true));
        AssertBits([.. rowSums.Select(v => v / n)], [R], t.Mean(1));
        AssertBits([.. rowSums.Select(v => v / n)], [R, 1], t.Mean(-1, keepDim: true));
        var colSums = Enumerable.Range(0, n).Select(c => Sequential(Enumerable.Range(0, R).Select(r => x[(r * n) + c]))).ToArray();
        AssertBits(colSums, [n], t.Sum(0));
        AssertBits([.. colSums.Select(v => v / R)], [n], t.Mean(0));
        // A transposed view sums in its own row-major order: the rows of the view are the columns here.
        AssertBits(colSums, [n], t.T.Sum(1));
        AssertBits([Sequential(Enumerable.Range(0, n).SelectMany(c => Enumerable.Range(0, R).Select(r => x[(r * n) + c])))], [], t.T.Sum());
        // [R, n, 2] reduced over the middle dim, one output per (r, k).
        var x3 = OrderSensitive(R, 2 * n, seed: n + 100);
        var mid = new double[R * 2];
        for (int r = 0; r < R; r++)
            for (int k = 0; k < 2; k++)
                mid[(r * 2) + k] = Sequential(Enumerable.Range(0, n).Select(j => x3[(((r * n) + j) * 2) + k]));
        AssertBits(mid, [R, 2], Tensor.FromArray(x3, R, n, 2).Sum(1));
        // The data discriminates: a pairwise sum differs from the sequential one somewhere (for rows long enough to pair).
        if (n >= 17)
            Assert.Contains(Enumerable.Range(0, R), r => Pairwise(x.AsSpan(r * n, n)) != rowSums[r]);
    }

    [Fact]
    public void SumEdgeCases()
    {
        AssertBits([0.0], [], Tensor.FromArray([-0.0, -0.0]).Sum()); // starts from +0.0, as a plain loop does
        AssertBits([0.0], [], Tensor.FromArray(Array.Empty<double>()).Sum());
        AssertBits([0.0], [], Tensor.FromArray(Array.Empty<double>()).Mean()); // empty: divides by 1, like float32
        AssertBits([0.0, 0.0], [2], Tensor.FromArray(new double[2, 0]).Sum(1));
        AssertBits([1e-300 + 0.0], [], Scalar64(1e-300).Sum());
        AssertBits([(0.0 + 1.0 + double.NaN) / 2], [], Tensor.FromArray([1.0, double.NaN]).Mean());
        var t = Tensor.FromArray([1.0 + Math.Pow(2, -40), 2.0], 2);
        AssertBits([1.0 + Math.Pow(2, -40), 2.0], [2], t.Sum(Array.Empty<int>()));
    }

    [Fact]
    public void KlEstimatorWrittenOnceMatchesPlainLoop()
    {
        // k3 = exp(r) − 1 − r with r = logq − logp, masked mean per row: Σ k3·m / Σ m.
        var logp = Values(20, B * T).Select(v => double.IsFinite(v) ? -Math.Abs(v % 5) : -1.0 - Math.Pow(2, -40)).ToArray();
        var logq = Floats(21, B * T).Select(v => -Math.Abs(v % 5)).ToArray();
        var mask = Enumerable.Range(0, B * T).Select(i => (i % T) < 2 + (i / T) ? 1f : 0f).ToArray();
        var tq = Tensor.FromArray(logq, B, T);
        var tm = Tensor.FromArray(mask, B, T);
        var r = tq - Tensor.FromArray(logp, B, T);
        var k3 = r.Exp() - 1.0 - r;
        var got = (k3 * tm).Sum(1) / tm.Sum(1);
        var expected = new double[B];
        for (int b = 0; b < B; b++)
        {
            double num = 0, den = 0;
            for (int j = 0; j < T; j++)
            {
                double rr = logq[(b * T) + j] - logp[(b * T) + j];
                num += (Math.Exp(rr) - 1.0 - rr) * mask[(b * T) + j];
                den += mask[(b * T) + j];
            }
            expected[b] = num / den;
        }
        AssertBits(expected, [B], got);
    }

    [Fact]
    public void MixingWithAGradTensorThrowsNamingTheOp()
    {
        var d = Tensor.FromArray([1.0 + Math.Pow(2, -40), 2.0]);
        var w = Tensor.FromArray([1f, 2f]);
        w.RequiresGrad = true;
        var mask = Tensor.FromArray([1f, 0f]);
        foreach (var (op, f) in new (string, Func<Tensor>)[]
        {
            ("add", () => d.Add(w)), ("add", () => w + d), ("sub", () => d - w), ("mul", () => w.Mul(d)), ("div", () => d / w),
            ("maximum", () => d.Maximum(w)), ("minimum", () => w.Minimum(d)), ("where", () => Tensor.Where(mask, d, w)),
        })
        {
            var ex = Assert.Throws<InvalidOperationException>(f);
            Assert.StartsWith(op + ":", ex.Message);
            Assert.Contains("float64 ops carry no gradient", ex.Message);
            Assert.Contains("Float()", ex.Message);
        }
        // Under NoGrad nothing is recorded and the result is Float64.
        using (GradMode.NoGrad())
        {
            var y = d.Mul(w);
            Assert.Equal(DType.Float64, y.Dtype);
            Assert.False(y.RequiresGrad);
            Assert.True(y.IsLeaf);
            Assert.Equal([1.0 + Math.Pow(2, -40), 4.0], y.ToDoubleArray());
        }
        // Without a grad-requiring input no node is recorded either.
        var z = d.Mul(Tensor.FromArray([3f, 4f])).Exp().Sum();
        Assert.True(z.IsLeaf);
        Assert.False(z.RequiresGrad);
        // Converted with Float() first, the gradient flows as float32.
        var loss = d.Float().Mul(w).Sum();
        loss.Backward();
        Assert.Equal([1f, 2f], w.Grad!.ToArray());
    }

    [Fact]
    public void DoubleScalarOverloadsOnFloat32BehaveLikeFloat()
    {
        var x = Tensor.FromArray(Floats(30, B * T), B, T);
        var mask = Tensor.FromArray(Enumerable.Range(0, B * T).Select(i => (float)(i % 2)).ToArray(), B, T);
        void Same(Tensor expected, Tensor actual)
        {
            Assert.Equal(DType.Float32, actual.Dtype);
            Assert.Equal(expected.Shape, actual.Shape);
            var e = expected.ToArray();
            var a = actual.ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(e[i]), BitConverter.SingleToInt32Bits(a[i]));
        }
        Same(x.Mul(0.5f), x.Mul(0.5));
        Same(x.Mul(0.1f), x.Mul(0.1));
        Same(x.Add(0.1f), x.Add(0.1));
        Same(x.Sub(1e-3f), x.Sub(1e-3));
        Same(x.Div(3f), x.Div(3.0));
        Same(x * 0.1f, x * 0.1);
        Same(0.1f * x, 0.1 * x);
        Same(x + 0.7f, x + 0.7);
        Same(0.7f + x, 0.7 + x);
        Same(x - 0.3f, x - 0.3);
        Same(0.3f - x, 0.3 - x);
        Same(x / 0.3f, x / 0.3);
        Same(0.3f / x, 0.3 / x);
        Same(x.Clamp(-0.1f, 0.9f), x.Clamp(-0.1, 0.9));
        Same(x.Clamp(null, 0.9f), x.Clamp(null, 0.9));
        Same(x.MaskedFill(mask, 0.1f), x.MaskedFill(mask, 0.1));
        Same(x.Clamp(), x.Clamp(null, null));
        // Other dtypes compute in float32 as with the float overloads.
        var ints = Tensor.FromArray([1, 2, 3]);
        Same(ints.Mul(0.1f), ints.Mul(0.1));
        var bf = x.ToBFloat16();
        Same(bf.Add(0.1f), bf.Add(0.1));
        // Gradients still flow through the double overloads on float32.
        var w = Tensor.FromArray([1f, 2f]);
        w.RequiresGrad = true;
        (((w * 0.5) + 1.0 - 2.0) / 4.0).Sum().Backward();
        Assert.Equal([0.125f, 0.125f], w.Grad!.ToArray());
    }
}
