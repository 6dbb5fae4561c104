using RlhfSharp.Alignment.Kl;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class KlEstimatorTests
{
    // Two tokens: logp = (−1, −2), logp_ref = (−1.5, −1), so d = logp_ref − logp = (−0.5, 1).
    //   k1 = −d = logp − logp_ref   = 0.5, −1
    //   k2 = ½ d²                   = 0.125, 0.5
    //   k3 = (r − 1) − log r = e^d − d − 1, r = e^d: e^−0.5 − 1 + 0.5 = 0.606531 − 0.5 = 0.106531
    //                                                 e^1 − 1 − 1     = 2.718282 − 2   = 0.718282
    [Theory]
    [InlineData(KlEstimator.K1, 0.5, -1.0)]
    [InlineData(KlEstimator.K2, 0.125, 0.5)]
    [InlineData(KlEstimator.K3, 0.106531, 0.718282)]
    public void EstimatorsMatchHandWorkedNumbers(KlEstimator estimator, double first, double second)
    {
        // float64 inputs: computed exactly in float64, checked to the 6 decimals of the hand numbers
        var exact = KlEstimators.PerToken(Tensor.FromArray(new double[] { -1, -2 }, 1, 2), Tensor.FromArray(new double[] { -1.5, -1 }, 1, 2), estimator);
        Assert.Equal(DType.Float64, exact.Dtype);
        Assert.Equal([1, 2], exact.Shape);
        var e = exact.ToDoubleArray();
        Assert.Equal(first, e[0], 6);
        Assert.Equal(second, e[1], 6);
        // float32 inputs (the differentiable path): values of order 1 rounded to 2⁻²⁴, so 5 decimals
        var t = KlEstimators.PerToken(Tensor.FromArray([-1f, -2f], 1, 2), Tensor.FromArray([-1.5f, -1f], 1, 2), estimator);
        Assert.Equal(DType.Float32, t.Dtype);
        Assert.Equal(first, t.ToArray()[0], 5);
        Assert.Equal(second, t.ToArray()[1], 5);
    }

    // A few (logp, logp_ref) pairs that are not exact in binary, of both signs of d, small and large.
    private static readonly double[] LogProbs = [-1, -2, -0.123456789, -3.3, -7.25, -1e-3, -0.7, -12.5];
    private static readonly double[] RefLogProbs = [-1.5, -1, -0.9876543, -3.3000001, -0.1, -2e-3, -5.4321, -11.75];

    [Theory]
    [InlineData(KlEstimator.K1)]
    [InlineData(KlEstimator.K2)]
    [InlineData(KlEstimator.K3)]
    public void Float64InputsGiveExactlyThePlainDoubleArithmetic(KlEstimator estimator)
    {
        // The same formulas written as C# doubles, in the library's order, with d = ref − logp.
        static double Plain(double logp, double refLogp, KlEstimator estimator)
        {
            double d = refLogp - logp;
            return estimator switch
            {
                KlEstimator.K1 => -d,
                KlEstimator.K2 => d * d * 0.5,
                _ => Math.Exp(d) - d - 1,
            };
        }

        int n = LogProbs.Length;
        var perToken = KlEstimators.PerToken(Tensor.FromArray(LogProbs, 2, n / 2), Tensor.FromArray(RefLogProbs, 2, n / 2), estimator).ToDoubleArray();
        for (int i = 0; i < n; i++)
        {
            double want = Plain(LogProbs[i], RefLogProbs[i], estimator);
            Assert.True(BitConverter.DoubleToInt64Bits(want) == BitConverter.DoubleToInt64Bits(perToken[i]), $"{estimator} token {i}: {perToken[i]:R} is not the plain double {want:R}");
        }
        // k1 = −(ref − logp) is also bit for bit logp − ref (IEEE subtraction is exactly antisymmetric)
        if (estimator == KlEstimator.K1)
        {
            for (int i = 0; i < n; i++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(LogProbs[i] - RefLogProbs[i]), BitConverter.DoubleToInt64Bits(perToken[i]));
        }

        // PerSequence: the row sums over real tokens, accumulated from 0.0 in order, as a plain loop would.
        // mask [[1, 1, 1, 0], [1, 1, 0, 0]]
        double[] mask = [1, 1, 1, 0, 1, 1, 0, 0];
        var perSequence = KlEstimators.PerSequence(Tensor.FromArray(LogProbs, 2, 4), Tensor.FromArray(RefLogProbs, 2, 4), Tensor.FromArray(mask, 2, 4), estimator);
        Assert.Equal(DType.Float64, perSequence.Dtype);
        Assert.Equal([2], perSequence.Shape);
        var sums = perSequence.ToDoubleArray();
        for (int b = 0; b < 2; b++)
        {
            double acc = 0.0;
            for (int t = 0; t < 4; t++)
                acc += mask[(b * 4) + t] == 1 ? Plain(LogProbs[(b * 4) + t], RefLogProbs[(b * 4) + t], estimator) : 0.0;
            Assert.True(BitConverter.DoubleToInt64Bits(acc) == BitConverter.DoubleToInt64Bits(sums[b]), $"{estimator} row {b}: {sums[b]:R} is not the plain sum {acc:R}");
        }
    }

    [Fact]
    public void K3AndK2AreNeverNegative()
    {
        // logp = d, logp_ref = 0 for d in −8 … 8 step 0.125, in float64 and in float32
        var d = Enumerable.Range(0, 129).Select(i => -8 + (0.125 * i)).ToArray();
        foreach (var estimator in new[] { KlEstimator.K3, KlEstimator.K2 })
        {
            var exact = KlEstimators.PerToken(Tensor.FromArray(d, 1, d.Length), Tensor.FromArray(new double[d.Length], 1, d.Length), estimator).ToDoubleArray();
            var floats = KlEstimators.PerToken(Tensor.FromArray(d.Select(v => (float)v).ToArray(), 1, d.Length), Tensor.Zeros(1, d.Length), estimator).ToArray();
            for (int i = 0; i < d.Length; i++)
            {
                Assert.True(exact[i] >= 0, $"{estimator}({d[i]}) = {exact[i]}");
                Assert.True(floats[i] >= 0, $"{estimator}({d[i]}) = {floats[i]} (float32)");
            }
        }
    }

    [Fact]
    public void MaskedMeanIgnoresPaddingAndHasTheRightGradient()
    {
        // Same two tokens plus one padded position holding a garbage log-prob (5).
        // mean k3 = (0.106531 + 0.718282) / 2 = 0.412407
        // ∂k3/∂logp = 1 − e^d: d = −0.5 → 0.3934693, d = 1 → 1 − e = −1.718282; each / 2 for the mean.
        var logp = Tensor.FromArray([-1f, -2f, 5f], 1, 3);
        logp.RequiresGrad = true;
        var logpRef = Tensor.FromArray([-1.5f, -1f, 0f], 1, 3);
        var mask = Tensor.FromArray([1f, 1f, 0f], 1, 3);
        var kl = Masked.Mean(KlEstimators.PerToken(logp, logpRef, KlEstimator.K3), mask);
        Assert.Equal(0.412407, kl.Item(), 5);
        kl.Backward();
        var g = logp.Grad!.ToArray();
        Assert.Equal(0.1967347, g[0], 6);
        Assert.Equal(-0.859141, g[1], 5);
        Assert.Equal(0, g[2]);

        // float64, padding holding −∞: k1 per token is (0.5, −1, 0) once padding is zeroed, the
        // sequence total 0.5 − 1 = −0.5 and the mean over the 2 real tokens −0.25; k3's total is
        // 0.1065307 + 0.7182818 = 0.8248125 (0.824812 to 6 decimals).
        var lp64 = Tensor.FromArray(new double[,] { { -1, -2, double.NegativeInfinity } });
        var ref64 = Tensor.FromArray(new double[,] { { -1.5, -1, 0 } });
        var mask64 = Tensor.FromArray(new double[,] { { 1, 1, 0 } });
        var k1 = KlEstimators.PerToken(lp64, ref64, KlEstimator.K1);
        Assert.Equal([0.5, -1, 0], Masked.Zeroed(k1, mask64).ToDoubleArray());
        Assert.Equal(-0.25, Masked.Mean(k1, mask64).ItemDouble(), 12);
        Assert.Equal([-0.5], KlEstimators.PerSequence(lp64, ref64, mask64, KlEstimator.K1).ToDoubleArray());
        Assert.Equal(0.824812, KlEstimators.PerSequence(lp64, ref64, mask64, KlEstimator.K3).ToDoubleArray()[0], 6);
    }

    /// <summary>
    /// Backward of the float32 path against central differences (f(x + h) − f(x − h))/2h of the
    /// float64 path of the same function, h = 1e-6, taken at the float32 inputs widened. The float64
    /// difference is accurate to ~1e-9 (truncation h²/6·|f'''| ≤ 1e-11·e², rounding 1e-16/h). The
    /// float32 gradient rounds d = ref − logp and e^d to 2⁻²⁴ relative, magnified by e^|d| ≤ e^2.1
    /// here, so ≲ 2e-6 absolute; atol 1e-5 + rtol 1e-5 sits above that and far below a real mistake
    /// (a sign, a missing ½, the wrong estimator: errors of order 0.1 or more).
    /// </summary>
    [Theory]
    [InlineData(KlEstimator.K1)]
    [InlineData(KlEstimator.K2)]
    [InlineData(KlEstimator.K3)]
    public void Float32GradientMatchesFiniteDifferences(KlEstimator estimator)
    {
        float[] logp = [-1f, -2f, -0.25f, -3.5f, -0.8f, -2.2f];
        float[] refLogp = [-1.5f, -1f, -0.3f, -1.4f, -2.9f, -2.2f];
        var lp = Tensor.FromArray(logp, 2, 3);
        var rp = Tensor.FromArray(refLogp, 2, 3);
        lp.RequiresGrad = true;
        rp.RequiresGrad = true;
        KlEstimators.PerToken(lp, rp, estimator).Sum().Backward();
        var gLogp = lp.Grad!.ToArray();
        var gRef = rp.Grad!.ToArray();

        const double H = 1e-6;
        double F(double[] l, double[] r) =>
            KlEstimators.PerToken(Tensor.FromArray(l, 2, 3), Tensor.FromArray(r, 2, 3), estimator).Sum().ItemDouble();
        var l0 = Array.ConvertAll(logp, v => (double)v);
        var r0 = Array.ConvertAll(refLogp, v => (double)v);
        for (int i = 0; i < logp.Length; i++)
        {
            var lPlus = (double[])l0.Clone();
            var lMinus = (double[])l0.Clone();
            lPlus[i] += H;
            lMinus[i] -= H;
            double wantLogp = (F(lPlus, r0) - F(lMinus, r0)) / (2 * H);
            var rPlus = (double[])r0.Clone();
            var rMinus = (double[])r0.Clone();
            rPlus[i] += H;
            rMinus[i] -= H;
            double wantRef = (F(l0, rPlus) - F(l0, rMinus)) / (2 * H);
            Assert.True(Math.Abs(gLogp[i] - wantLogp) <= 1e-5 + (1e-5 * Math.Abs(wantLogp)), $"{estimator} ∂/∂logp[{i}]: {gLogp[i]} vs finite difference {wantLogp}");
            Assert.True(Math.Abs(gRef[i] - wantRef) <= 1e-5 + (1e-5 * Math.Abs(wantRef)), $"{estimator} ∂/∂ref[{i}]: {gRef[i]} vs finite difference {wantRef}");
        }
    }

    [Fact]
    public void NamesParseAndRoundTrip()
    {
        Assert.Equal(["k1", "k2", "k3"], KlEstimators.Names);
        Assert.Equal(KlEstimator.K1, KlEstimators.Parse("k1"));
        Assert.Equal(KlEstimator.K2, KlEstimators.Parse("k2"));
        Assert.Equal(KlEstimator.K3, KlEstimators.Parse("k3"));
        foreach (var estimator in Enum.GetValues<KlEstimator>())
            Assert.Equal(estimator, KlEstimators.Parse(KlEstimators.Name(estimator)));
        Assert.Equal("k3", KlEstimators.Name(KlEstimator.K3));
    }

    [Fact]
    public void UnknownNameListsTheValidOnes()
    {
        var e = Assert.Throws<UnknownAlgorithmException>(() => KlEstimators.Parse("k4"));
        Assert.Equal("k4", e.Name);
        Assert.Contains("'k4'", e.Message);
        Assert.Contains("k1, k2, k3", e.Message);
        Assert.Throws<UnknownAlgorithmException>(() => KlEstimators.Parse("K3")); // names are case-sensitive
    }

    [Fact]
    public void ShapesAreChecked()
    {
        Assert.Throws<ArgumentException>(() => KlEstimators.PerToken(Tensor.Zeros(1, 3), Tensor.Zeros(1, 2), KlEstimator.K1));
        Assert.Throws<ArgumentException>(() => KlEstimators.PerSequence(Tensor.Zeros(1, 3), Tensor.Zeros(1, 3), Tensor.Zeros(1, 2), KlEstimator.K1));
    }

    [Fact]
    public void MasksThatAreNotRightPaddedAreRejected()
    {
        var zeros = Tensor.Zeros(1, 3);
        var holed = Tensor.FromArray([1f, 0f, 1f], 1, 3);    // a real token after padding
        var half = Tensor.FromArray([1f, 0.5f, 0f], 1, 3);   // not 0 or 1
        Assert.Contains("right-padded", Assert.Throws<ArgumentException>(() => KlEstimators.PerSequence(zeros, zeros, holed, KlEstimator.K1)).Message);
        Assert.Contains("0.5", Assert.Throws<ArgumentException>(() => KlEstimators.PerSequence(zeros, zeros, half, KlEstimator.K3)).Message);
    }
}
