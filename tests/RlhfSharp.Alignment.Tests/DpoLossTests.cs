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

    private static Tensor T(double[] values) => Tensor.FromArray(values.Select(v => (float)v).ToArray());

    private static DpoOutput Run(float beta, DpoLossType type = DpoLossType.Sigmoid, float smoothing = 0f) =>
        DpoLoss.Compute(T(PolicyChosen), T(PolicyRejected), T(RefChosen), T(RefRejected), beta, type, smoothing);

    [Fact]
    public void SigmoidLossRewardsMarginsAndAccuraciesMatchHandWorkedNumbers()
    {
        // β = 0.1, h = β·u = 0.2, 0, −0.3:
        //   softplus(−0.2) = log(1 + e^−0.2) = 0.598139
        //   softplus(0)    = log 2           = 0.693147
        //   softplus(0.3)  = log(1 + e^0.3)  = 0.854355
        // loss = 2.145641 / 3 = 0.715214
        var output = Run(0.1f);
        Assert.Equal(0.715214, output.Loss.Item(), 5);
        Assert.Equal(0.715214, DpoLoss.Loss(PolicyChosen, PolicyRejected, RefChosen, RefRejected, beta: 0.1), 6);

        // rewards r = β·log-ratio: chosen (0.1, 0, −0.2), rejected (−0.1, 0, 0.1)
        //   rewards/chosen   = −0.1 / 3 = −0.033333
        //   rewards/rejected =  0   / 3 =  0
        //   rewards/margins  = (0.2 + 0 − 0.3) / 3 = −0.033333
        //   rewards/accuracies: only pair 1 has r_c > r_r (pair 2 is a tie and counts 0) = 1/3
        //   logps/chosen = (−5 − 4 − 10) / 3 = −6.333333, logps/rejected = (−9 − 4 − 7) / 3 = −6.666667
        Assert.Equal(-0.1 / 3, output.RewardsChosen, 6);
        Assert.Equal(0, output.RewardsRejected, 6);
        Assert.Equal(-0.1 / 3, output.RewardsMargins, 6);
        Assert.Equal(1.0 / 3, output.RewardsAccuracies, 12);
        Assert.Equal(-19.0 / 3, output.LogpsChosen, 5);
        Assert.Equal(-20.0 / 3, output.LogpsRejected, 5);

        var metrics = output.ToMetrics();
        Assert.Equal(
            new[] { "loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" },
            metrics.Keys);
        Assert.Equal(1.0 / 3, metrics["rewards/accuracies"], 12);
    }

    [Fact]
    public void LabelSmoothingAtZeroIsDpo()
    {
        Assert.Equal(Run(0.1f).Loss.Item(), Run(0.1f, smoothing: 0f).Loss.Item());
        for (double u = -4; u <= 4; u += 0.5)
            Assert.Equal(DpoLoss.PairLoss(u, 0.3), DpoLoss.PairLoss(u, 0.3, labelSmoothing: 0), 12);
    }

    [Fact]
    public void LabelSmoothingMatchesHandWorkedNumbers()
    {
        // ε = 0.1, β = 0.1, u = 2 (h = 0.2): 0.9·softplus(−0.2) + 0.1·softplus(0.2)
        //   = 0.9·0.598139 + 0.1·0.798139 = 0.538325 + 0.079814 = 0.618139
        // (equivalently softplus(−h) + ε·h = 0.598139 + 0.02, since softplus(h) − softplus(−h) = h)
        Assert.Equal(0.618139, DpoLoss.PairLoss(2, 0.1, labelSmoothing: 0.1), 6);
        var one = DpoLoss.Compute(Tensor.FromArray([-5f]), Tensor.FromArray([-9f]), Tensor.FromArray([-6f]), Tensor.FromArray([-8f]), 0.1f, labelSmoothing: 0.1f);
        Assert.Equal(0.618139, one.Loss.Item(), 5);
    }

    [Fact]
    public void LabelSmoothingAtOneHalfIsSymmetricInH()
    {
        // ε = 0.5: ½·softplus(−h) + ½·softplus(h) is even in h, so swapping chosen and rejected
        // (which negates h) leaves the loss unchanged; at h = 0.2: ½·(0.598139 + 0.798139) = 0.698139.
        Assert.Equal(0.698139, DpoLoss.PairLoss(2, 0.1, labelSmoothing: 0.5), 6);
        for (double u = -6; u <= 6; u += 0.75)
            Assert.Equal(DpoLoss.PairLoss(u, 0.2, labelSmoothing: 0.5), DpoLoss.PairLoss(-u, 0.2, labelSmoothing: 0.5), 12);
        var forward = Run(0.1f, smoothing: 0.5f).Loss.Item();
        var swapped = DpoLoss.Compute(T(PolicyRejected), T(PolicyChosen), T(RefRejected), T(RefChosen), 0.1f, labelSmoothing: 0.5f).Loss.Item();
        Assert.Equal(forward, swapped, 6);
    }

    [Fact]
    public void IpoMatchesHandWorkedNumbers()
    {
        // β = 0.5, 1/(2β) = 1, u = 2, 0, −3: (2 − 1)² = 1, (0 − 1)² = 1, (−3 − 1)² = 16; mean = 18 / 3 = 6
        Assert.Equal(6, Run(0.5f, DpoLossType.Ipo).Loss.Item(), 5);
        Assert.Equal(6, DpoLoss.Loss(PolicyChosen, PolicyRejected, RefChosen, RefRejected, 0.5, DpoLossType.Ipo), 12);
        // β = 0.1, 1/(2β) = 5, u = 2: (2 − 5)² = 9 — the square of the unscaled log-ratio difference u = h/β
        Assert.Equal(9, DpoLoss.PairLoss(2, 0.1, DpoLossType.Ipo), 12);
        // rewards are β·log-ratio whatever the loss type
        Assert.Equal(0.5 * -1 / 3, Run(0.5f, DpoLossType.Ipo).RewardsChosen, 6);
    }

    [Fact]
    public void LargeLogRatioDifferencesStayFinite()
    {
        Assert.Equal(0, DpoLoss.PairLoss(1e4, 0.1), 12);
        Assert.Equal(1000, DpoLoss.PairLoss(-1e4, 0.1), 9);
        var loss = DpoLoss.Compute(Tensor.FromArray([0f]), Tensor.FromArray([10000f]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), 0.1f).Loss.Item();
        Assert.Equal(1000, loss, 2);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.PairLoss(1, beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.PairLoss(1, labelSmoothing: 0.7));
        Assert.Throws<ArgumentException>(() => DpoLoss.PairLoss(1, 0.1, DpoLossType.Ipo, 0.1));
        Assert.Throws<ShapeMismatchException>(() => DpoLoss.Compute(Tensor.FromArray([0f, 1f]), Tensor.FromArray([0f]), Tensor.FromArray([0f]), Tensor.FromArray([0f])));
    }
}
