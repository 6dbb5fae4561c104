namespace RlhfSharp.Tensors.Tests;

/// <summary>Naive reference implementations and comparison helpers for the core tests.</summary>
internal static class CoreRef
{
    /// <summary>Every full index of <paramref name="shape"/> in row-major order.</summary>
    public static IEnumerable<int[]> Indices(int[] shape)
    {
        int n = 1;
        foreach (var d in shape)
            n *= d;
        var idx = new int[shape.Length];
        for (int i = 0; i < n; i++)
        {
            yield return (int[])idx.Clone();
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d])
                    break;
                idx[d] = 0;
            }
        }
    }

    /// <summary>Reads <paramref name="t"/> at an index of a broadcast shape (NumPy rules).</summary>
    public static float AtBroadcast(Tensor t, int[] outIdx)
    {
        var shape = t.Shape;
        var idx = new int[shape.Length];
        int lead = outIdx.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++)
            idx[i] = shape[i] == 1 ? 0 : outIdx[lead + i];
        return t[idx];
    }

    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>f applied element-wise over the broadcast of a and b, by reading each element through the indexer.</summary>
    public static float[] Binary(Tensor a, Tensor b, Func<float, float, float> f)
    {
        var shape = BroadcastShape(a.Shape, b.Shape);
        return Indices(shape).Select(i => f(AtBroadcast(a, i), AtBroadcast(b, i))).ToArray();
    }

    public static void Close(float[] expected, float[] actual, double atol = 1e-6, double rtol = 1e-6, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) || float.IsInfinity(e))
            {
                Assert.True(e.Equals(a), $"{what} element {i}: expected {e}, got {a}");
                continue;
            }
            double diff = Math.Abs(e - a);
            Assert.True(diff <= atol + (rtol * Math.Abs(e)), $"{what} element {i}: expected {e:G9}, got {a:G9} (diff {diff:G3})");
        }
    }

    /// <summary>
    /// erf in double: the all-positive Maclaurin series erf(x) = 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1))
    /// (Abramowitz &amp; Stegun 7.1.6) for |x| &lt; 2.5, else 1 − erfc.
    /// </summary>
    public static double Erf(double x)
    {
        if (x < 0)
            return -Erf(-x);
        if (x >= 2.5)
            return 1 - Erfc(x);
        double term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2 * x * x / ((2 * n) + 1);
            sum += term;
            if (term < 1e-18 * sum)
                break;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    /// <summary>erfc in double; for x ≥ 2.5 the continued fraction e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))) (A&amp;S 7.1.14).</summary>
    public static double Erfc(double x)
    {
        if (x < 2.5)
            return 1 - Erf(x);
        double f = x;
        for (int n = 120; n >= 1; n--)
            f = x + (n / 2.0 / f);
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>Standard normal CDF Φ(x) = ½·erfc(−x/√2), accurate in the far left tail.</summary>
    public static double Phi(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>Values away from the given kinks by at least <paramref name="margin"/> (resampled N(0, scale²)).</summary>
    public static Tensor Away(Generator g, int[] shape, float[] kinks, float margin = 0.1f, float scale = 2f)
    {
        int n = 1;
        foreach (var d in shape)
            n *= d;
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v;
            do
                v = scale * g.NextNormal();
            while (kinks.Any(k => Math.Abs(v - k) < margin));
            data[i] = v;
        }
        return Tensor.FromArray(data).Reshape(shape);
    }

    /// <summary>Distinct values spaced 0.5 apart in random order, so max/argmax has no near-ties.</summary>
    public static Tensor Distinct(Generator g, params int[] shape)
    {
        int n = 1;
        foreach (var d in shape)
            n *= d;
        var values = Enumerable.Range(0, n).Select(i => (i * 0.5f) - (n * 0.25f)).ToList();
        g.Shuffle(values);
        return Tensor.FromArray([.. values], [n]).Reshape(shape);
    }
}
