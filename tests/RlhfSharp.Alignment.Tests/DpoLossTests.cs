using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class DpoLossTests
{
    // Three pairs of sequence log-probs (policy chosen, policy rejected, ref chosen, ref rejected):
    //   pair 1: (−5, −9, −6, −8):  chosen log-ratio −5 − (−6) = 1,  rejected −9 − (−8) = −1, u = 2
    //   pair 2: (−4, −4, −4, −4):  both log-ratios 0,                                        u = 0
    //   pair 3: (−10, −7, −8, −8): chosen log-ratio −2,              rejected 1,             u = −3
    private static readonly double[] PolicyChosen = [-5, -4, -10];
    private static readonly double[] PolicyRejected = [-9, -4, -7];
    private static readonly double[] RefChosen = [-6, -4, -8];
    private static readonly double[] RefRejected = [-8, -4, -8];

    /// <summary>
    /// Tolerance for a loss computed in float32 against a hand-worked number: float32 rounds each
    /// of the few ops (sub, mul by β, softplus, mean) to 2⁻²⁴ ≈ 6e-8 relative, so the loss carries
    /// an error well under 1e-6 relative; the hand numbers are rounded to 6 decimals (±5e-7).
    /// 1e-5 relative (with an absolute floor of 1e-5 for values near 0) sits above both and far
    /// below any real mistake (a wrong sign, a missing β, a dropped smoothing term).
    /// </summary>
    private const double Rel = 1e-5;

    private static void AssertClose(double expected, double actual)
    {
        double tolerance = Rel * Math.Max(Math.Abs(expected), 1);
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"expected {expected} ± {tolerance}, got {actual}");
    }

    private static Tensor T(double[] values) => Tensor.FromArray(values.Select(v => (float)v).ToArray());

    private static DpoOutput Run(double beta, DpoLossType type = DpoLossType.Sigmoid, double smoothing = 0) =>
        DpoLoss.Compute(T(PolicyChosen), T(PolicyRejected), T(RefChosen), T(RefRejected), beta, type, smoothing);

    /// <summary>
    /// The loss of one pair whose log-ratio difference is <paramref name="u"/> (policy chosen u, the
    /// other three 0, so u = (u − 0) − (0 − 0) exactly), through <see cref="DpoLoss.Compute"/> on [1] float32 tensors.
    /// </summary>
    private static float PairLoss(double u, double beta = 0.1, DpoLossType type = DpoLossType.Sigmoid, double labelSmoothing = 0) =>
        DpoLoss.Compute(Tensor.FromArray([(float)u]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), beta, type, labelSmoothing).Loss.Item();

    [Fact]
    public void SigmoidLossRewardsMarginsAndAccuraciesMatchHandWorkedNumbers()
    {
        // β = 0.1, h = β·u = 0.2, 0, −0.3:
        //   softplus(−0.2) = log(1 + e^−0.2) = 0.598139
        //   softplus(0)    = log 2           = 0.693147
        //   softplus(0.3)  = log(1 + e^0.3)  = 0.854355
        // loss = 2.145641 / 3 = 0.715214
        var output = Run(0.1);
        Assert.Empty(output.Loss.Shape);
        AssertClose(0.715214, output.Loss.Item());
        // the same three pairs one at a time: (0.598139 + 0.693147 + 0.854355) / 3
        AssertClose(0.715214, (PairLoss(2) + PairLoss(0) + PairLoss(-3)) / 3.0);

        // rewards r = β·log-ratio: chosen (0.1, 0, −0.2), rejected (−0.1, 0, 0.1)
        //   rewards/chosen   = −0.1 / 3 = −0.033333
        //   rewards/rejected =  0   / 3 =  0
        //   rewards/margins  = (0.2 + 0 − 0.3) / 3 = −0.033333
        //   rewards/accuracies: only pair 1 has r_c > r_r (pair 2 is a tie and counts 0) = 1/3
        //   logps/chosen = (−5 − 4 − 10) / 3 = −6.333333, logps/rejected = (−9 − 4 − 7) / 3 = −6.666667
        // The metrics are computed in double from log-probs that are whole numbers (exact in float32)
        // and a double β, so they match to double precision.
        Assert.Equal(-0.1 / 3, output.RewardsChosen, 12);
        Assert.Equal(0, output.RewardsRejected, 12);
        Assert.Equal(-0.1 / 3, output.RewardsMargins, 12);
        Assert.Equal(1.0 / 3, output.RewardsAccuracies, 12);
        Assert.Equal(-19.0 / 3, output.LogpsChosen, 12);
        Assert.Equal(-20.0 / 3, output.LogpsRejected, 12);

        var metrics = output.ToMetrics();
        Assert.Equal(
            new[] { "loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" },
            metrics.Keys);
        Assert.Equal(1.0 / 3, metrics["rewards/accuracies"], 12);
    }

    [Fact]
    public void LabelSmoothingAtZeroIsDpo()
    {
        Assert.Equal(Run(0.1).Loss.Item(), Run(0.1, smoothing: 0).Loss.Item());
        for (double u = -4; u <= 4; u += 0.5)
            Assert.Equal(PairLoss(u, 0.3), PairLoss(u, 0.3, labelSmoothing: 0));
    }

    [Fact]
    public void LabelSmoothingMatchesHandWorkedNumbers()
    {
        // ε = 0.1, β = 0.1, u = 2 (h = 0.2): 0.9·softplus(−0.2) + 0.1·softplus(0.2)
        //   = 0.9·0.598139 + 0.1·0.798139 = 0.538325 + 0.079814 = 0.618139
        // (equivalently softplus(−h) + ε·h = 0.598139 + 0.02, since softplus(h) − softplus(−h) = h)
        AssertClose(0.618139, PairLoss(2, 0.1, labelSmoothing: 0.1));
        var one = DpoLoss.Compute(Tensor.FromArray([-5f]), Tensor.FromArray([-9f]), Tensor.FromArray([-6f]), Tensor.FromArray([-8f]), 0.1, labelSmoothing: 0.1);
        AssertClose(0.618139, one.Loss.Item());
    }

    [Fact]
    public void LabelSmoothingAtOneHalfIsSymmetricInH()
    {
        // ε = 0.5: ½·softplus(−h) + ½·softplus(h) is even in h, so swapping chosen and rejected
        // (which negates h) leaves the loss unchanged; at h = 0.2: ½·(0.598139 + 0.798139) = 0.698139.
        AssertClose(0.698139, PairLoss(2, 0.1, labelSmoothing: 0.5));
        // Exactly equal, not just close: negating u negates both float32 products ±β·u exactly, so the
        // two softplus terms trade places and their (commutative) float sum is the same.
        for (double u = -6; u <= 6; u += 0.75)
            Assert.Equal(PairLoss(u, 0.2, labelSmoothing: 0.5), PairLoss(-u, 0.2, labelSmoothing: 0.5));
        var forward = Run(0.1, smoothing: 0.5).Loss.Item();
        var swapped = DpoLoss.Compute(T(PolicyRejected), T(PolicyChosen), T(RefRejected), T(RefChosen), 0.1, labelSmoothing: 0.5).Loss.Item();
        AssertClose(forward, swapped);
    }

    [Fact]
    public void IpoMatchesHandWorkedNumbers()
    {
        // β = 0.5, 1/(2β) = 1, u = 2, 0, −3: (2 − 1)² = 1, (0 − 1)² = 1, (−3 − 1)² = 16; mean = 18 / 3 = 6
        // Every intermediate is a small whole number, exact in float32, so the loss is exactly 6.
        Assert.Equal(6f, Run(0.5, DpoLossType.Ipo).Loss.Item());
        Assert.Equal(6f, (PairLoss(2, 0.5, DpoLossType.Ipo) + PairLoss(0, 0.5, DpoLossType.Ipo) + PairLoss(-3, 0.5, DpoLossType.Ipo)) / 3);
        // β = 0.1, 1/(2β) = 5, u = 2: (2 − 5)² = 9 — the square of the unscaled log-ratio difference u = h/β
        Assert.Equal(9f, PairLoss(2, 0.1, DpoLossType.Ipo));
        // rewards are β·log-ratio whatever the loss type
        Assert.Equal(0.5 * -1 / 3, Run(0.5, DpoLossType.Ipo).RewardsChosen, 12);
    }

    [Fact]
    public void LargeLogRatioDifferencesStayFinite()
    {
        // h = ±1000: softplus(−1000) underflows to 0 (e^−1000), softplus(1000) = 1000 + log(1 + e^−1000) = 1000
        Assert.Equal(0, PairLoss(1e4, 0.1), 12);
        AssertClose(1000, PairLoss(-1e4, 0.1));
        var loss = DpoLoss.Compute(Tensor.FromArray([0f]), Tensor.FromArray([10000f]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), 0.1).Loss.Item();
        Assert.True(float.IsFinite(loss));
        AssertClose(1000, loss);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PairLoss(1, beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PairLoss(1, labelSmoothing: 0.7));
        Assert.Throws<ArgumentException>(() => PairLoss(1, 0.1, DpoLossType.Ipo, 0.1));
        Assert.Throws<ShapeMismatchException>(() => DpoLoss.Compute(Tensor.FromArray([0f, 1f]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), Tensor.FromArray([0f])));
    }
}
