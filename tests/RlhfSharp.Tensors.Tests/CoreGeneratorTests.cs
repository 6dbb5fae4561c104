namespace RlhfSharp.Tensors.Tests;

public class CoreGeneratorTests
{
    [Fact]
    public void SameSeedSameSequence()
    {
        var a = new Generator(42);
        var b = new Generator(42);
        var c = new Generator(43);
        var sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(sa, Enumerable.Range(0, 100).Select(_ => b.NextUInt64()).ToArray());
        Assert.NotEqual(sa, Enumerable.Range(0, 100).Select(_ => c.NextUInt64()).ToArray());
        Assert.Equal(new Generator(5).Normal([3, 4]).ToArray(), new Generator(5).Normal([3, 4]).ToArray());
        Assert.Equal(42UL, a.Seed);
    }

    [Fact]
    public void ZeroSeedIsUsable()
    {
        var g = new Generator(0);
        Assert.NotEqual(g.NextUInt64(), g.NextUInt64());
    }

    [Fact]
    public void UniformStaysInRange()
    {
        var g = new Generator(1);
        var u = g.Uniform([10000], -2f, 3f).ToArray();
        Assert.All(u, v => Assert.True(v >= -2f && v < 3f));
        Assert.InRange(u.Average(), 0.5 - 0.05, 0.5 + 0.05); // σ/√n = 1.44/100
        for (int i = 0; i < 10000; i++)
        {
            float f = g.NextFloat();
            Assert.True(f >= 0f && f < 1f);
            double d = g.NextDouble();
            Assert.True(d >= 0 && d < 1);
            Assert.InRange(g.NextInt(7), 0, 6);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => g.NextInt(0));
    }

    [Fact]
    public void NormalMomentsWithinTolerance()
    {
        // 200k samples: the standard error of the mean is 0.0022 and of the std 0.0016 (σ/√(2n)),
        // so ±0.012 is over 5 standard errors for both.
        var g = new Generator(2);
        var x = g.Normal([200_000], mean: 1.5f, std: 2f).ToArray();
        double mean = x.Average(v => (double)v);
        double std = Math.Sqrt(x.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 1.5 - (2 * 0.012), 1.5 + (2 * 0.012));
        Assert.InRange(std, 2 - (2 * 0.012), 2 + (2 * 0.012));
        double within1 = x.Count(v => Math.Abs(v - 1.5) < 2) / (double)x.Length;
        Assert.InRange(within1, 0.6827 - 0.005, 0.6827 + 0.005);
    }

    [Fact]
    public void MultinomialFrequenciesMatchProbabilities()
    {
        var g = new Generator(3);
        float[] w = [0.2f, 0f, 0.4f, 0.6f, 0.8f]; // unnormalised; index 1 never drawn
        int n = 40_000;
        var draws = g.Multinomial(Tensor.FromArray(w), n).ToIntArray();
        Assert.Equal(n, draws.Length);
        var counts = new int[w.Length];
        foreach (var d in draws)
            counts[d]++;
        Assert.Equal(0, counts[1]);
        double total = w.Sum();
        double chi2 = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] == 0)
                continue;
            double expected = n * w[i] / total;
            chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        Assert.True(chi2 < 16.3, $"chi² = {chi2:F2} with 3 degrees of freedom (p < 0.001 above 16.3)");
    }

    [Fact]
    public void MultinomialBatchedRows()
    {
        var g = new Generator(4);
        var probs = Tensor.FromArray([0f, 0f, 1f, 1f, 0f, 0f], 2, 3);
        var s = g.Multinomial(probs, 5);
        Assert.Equal([2, 5], s.Shape);
        Assert.Equal([2, 2, 2, 2, 2, 0, 0, 0, 0, 0], s.ToIntArray());
        Assert.Equal([1], g.Multinomial(Tensor.FromArray([0f, 3f])).Shape);
    }

    [Fact]
    public void MultinomialRejectsBadProbabilities()
    {
        var g = new Generator(5);
        Assert.Throws<ArgumentException>(() => g.Multinomial(Tensor.FromArray([0.5f, -0.1f])));
        Assert.Throws<ArgumentException>(() => g.Multinomial(Tensor.FromArray([0.5f, float.NaN])));
        Assert.Throws<ArgumentException>(() => g.Multinomial(Tensor.FromArray([0.5f, float.PositiveInfinity])));
        var zero = Assert.Throws<ArgumentException>(() => g.Multinomial(Tensor.FromArray([0f, 0f, 1f, 0f], 2, 2)));
        Assert.Contains("row 0", zero.Message);
        Assert.Throws<ShapeMismatchException>(() => g.Multinomial(Tensor.Ones(2, 2, 2)));
        Assert.Throws<ShapeMismatchException>(() => g.Multinomial(Tensor.Scalar(1f)));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Multinomial(Tensor.Ones(3), 0));
    }

    [Fact]
    public void StateRestoreContinuesTheSameSequence()
    {
        var g = new Generator(6);
        g.Normal([17]);
        var state = g.GetState();
        var expected = g.Uniform([50]).ToArray();
        var expectedInt = g.NextInt(1000);
        var h = new Generator(999);
        h.SetState(state);
        Assert.Equal(expected, h.Uniform([50]).ToArray());
        Assert.Equal(expectedInt, h.NextInt(1000));
        g.SetState(state);
        Assert.Equal(expected, g.Uniform([50]).ToArray());
        Assert.Throws<ArgumentException>(() => g.SetState([0, 0, 0, 0]));
        Assert.Throws<ArgumentException>(() => g.SetState([1, 2, 3]));
    }

    [Fact]
    public void ShuffleIsAPermutation()
    {
        var g = new Generator(7);
        var items = Enumerable.Range(0, 50).ToList();
        g.Shuffle(items);
        Assert.NotEqual(Enumerable.Range(0, 50), items);
        Assert.Equal(Enumerable.Range(0, 50), items.Order());
    }
}
