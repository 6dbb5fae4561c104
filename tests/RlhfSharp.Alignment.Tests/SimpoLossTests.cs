using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class SimpoLossTests
{
    // Three pairs of length-normalised log-probs (chosen, rejected): (−1, −2), (−1.5, −1.5), (−2, −1).
    private static readonly float[] Chosen = [-1f, -1.5f, -2f];
    private static readonly float[] Rejected = [-2f, -1.5f, -1f];

    /// <summary>
    /// float32 loss against hand numbers rounded to 6 decimals: a few float ops on values of order 1 carry
    /// ~1e-7 relative error, so 1e-5 relative (absolute floor 1e-5) is above both and far below a mistake.
    /// </summary>
    private static void AssertClose(double expected, double actual)
    {
        double tolerance = 1e-5 * Math.Max(Math.Abs(expected), 1);
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"expected {expected} ± {tolerance}, got {actual}");
    }

    [Fact]
    public void LossRewardsAndAccuraciesMatchHandWorkedNumbers()
    {
        // β = 2, γ = 1: h = β·(m_c − m_r) − γ = 2·1 − 1 = 1, 2·0 − 1 = −1, 2·(−1) − 1 = −3
        //   softplus(−1) = 0.313262, softplus(1) = 1.313262, softplus(3) = 3.048587
        //   loss = 4.675111 / 3 = 1.558370
        var output = SimpoLoss.Compute(Tensor.FromArray(Chosen), Tensor.FromArray(Rejected), beta: 2, gamma: 1);
        Assert.Empty(output.Loss.Shape);
        AssertClose(1.558370, output.Loss.Item());
        // rewards r = β·m: chosen (−2, −3, −4), rejected (−4, −3, −2)
        //   rewards/chosen = −3, rewards/rejected = −3, margins = (2 + 0 − 2)/3 = 0,
        //   accuracies: pair 1 only (pair 2 is a tie and counts 0) = 1/3
        //   logps/chosen = −4.5/3 = −1.5, logps/rejected = −1.5
        Assert.Equal(-3, output.RewardsChosen, 12);
        Assert.Equal(-3, output.RewardsRejected, 12);
        Assert.Equal(0, output.RewardsMargins, 12);
        Assert.Equal(1.0 / 3, output.RewardsAccuracies, 12);
        Assert.Equal(-1.5, output.LogpsChosen, 12);
        Assert.Equal(-1.5, output.LogpsRejected, 12);
        Assert.Equal(
            ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"],
            output.ToMetrics().Keys);
    }

    [Fact]
    public void TheTargetMarginShiftsTheSigmoid()
    {
        // γ = 0 is DPO's sigmoid loss on β·(m_c − m_r) without a reference: pair 1, h = 2: softplus(−2) = 0.126928
        AssertClose(0.126928, SimpoLoss.Compute(Tensor.FromArray([-1f]), Tensor.FromArray([-2f]), 2, 0).Loss.Item());
        // γ = 2 cancels the reward gap exactly: softplus(0) = ln 2 = 0.693147
        AssertClose(0.693147, SimpoLoss.Compute(Tensor.FromArray([-1f]), Tensor.FromArray([-2f]), 2, 2).Loss.Item());
    }

    [Fact]
    public void LabelSmoothingMatchesHandWorkedNumbers()
    {
        // ε = 0.1, h = 1: 0.9·softplus(−1) + 0.1·softplus(1) = 0.9·0.313262 + 0.1·1.313262 = 0.413262
        // (= softplus(−h) + ε·h, since softplus(h) − softplus(−h) = h)
        AssertClose(0.413262, SimpoLoss.Compute(Tensor.FromArray([-1f]), Tensor.FromArray([-2f]), 2, 1, 0.1).Loss.Item());
        // ε = 0 is exactly the plain loss
        Assert.Equal(
            SimpoLoss.Compute(Tensor.FromArray(Chosen), Tensor.FromArray(Rejected)).Loss.Item(),
            SimpoLoss.Compute(Tensor.FromArray(Chosen), Tensor.FromArray(Rejected), labelSmoothing: 0).Loss.Item());
    }

    [Fact]
    public void LengthNormalisationCountsOnlyResponseTokens()
    {
        // chosen: 2 response tokens of log-prob ln ¾ then 2 padding tokens: mean ln ¾ (not (2·ln ¾ + 2·(−2·10⁴))/4)
        // rejected: 4 response tokens of log-prob ln ¼: mean ln ¼
        // β = 1, γ = 0: h = ln ¾ − ln ¼ = ln 3, loss = softplus(−ln 3) = ln(1 + ⅓) = ln(4/3) = 0.287682
        var (logits, ids, mask) = PaddedResponses.Batch(PaddedResponses.Short(), PaddedResponses.Long());
        var m = SequenceLogProbs.Mean(logits, ids, mask).ToArray();
        var output = SimpoLoss.Compute(Tensor.FromArray([m[0]]), Tensor.FromArray([m[1]]), beta: 1, gamma: 0);
        AssertClose(0.287682, output.Loss.Item());
        Assert.Equal(Math.Log(0.75), output.LogpsChosen, 5);
        Assert.Equal(Math.Log(0.25), output.LogpsRejected, 5);
    }

    [Fact]
    public void GradientIsMinusBetaSigmaOfMinusHOverB()
    {
        // ∂/∂m_c softplus(−h)/B = −β·σ(−h)/B; pair (−1, −2), β = 2, γ = 1, h = 1, B = 1:
        //   −2·σ(−1) = −2·0.268941 = −0.537883, and +0.537883 for m_r
        var c = Tensor.FromArray([-1f]);
        var r = Tensor.FromArray([-2f]);
        c.RequiresGrad = true;
        r.RequiresGrad = true;
        SimpoLoss.Compute(c, r, 2, 1).Loss.Backward();
        Assert.Equal(-0.537883, c.Grad!.Item(), 5);
        Assert.Equal(0.537883, r.Grad!.Item(), 5);
    }

    [Fact]
    public void ExtremeLogProbsStayFinite()
    {
        // h = ±2·10⁴: the loss is 0 (softplus(−2·10⁴) underflows) or 2·10⁴ + 1, never ∞ or NaN
        var c = Tensor.FromArray([-1e4f, 0f]);
        var r = Tensor.FromArray([0f, -1e4f]);
        c.RequiresGrad = true;
        var output = SimpoLoss.Compute(c, r, beta: 2, gamma: 1, labelSmoothing: 0.1);
        output.Loss.Backward();
        Assert.True(float.IsFinite(output.Loss.Item()));
        Assert.All(c.Grad!.ToArray(), g => Assert.True(float.IsFinite(g)));
        // per pair: 0.9·softplus(2·10⁴ + 1) + 0.1·softplus(−2·10⁴ − 1) = 0.9·20001; and 0.1·softplus(19999)
        AssertClose(((0.9 * 20001) + (0.1 * 19999)) / 2, output.Loss.Item());
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var one = Tensor.FromArray([-1f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpoLoss.Compute(one, one, beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpoLoss.Compute(one, one, beta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpoLoss.Compute(one, one, gamma: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpoLoss.Compute(one, one, gamma: double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => SimpoLoss.Compute(one, one, labelSmoothing: 0.6));
        Assert.Throws<ShapeMismatchException>(() => SimpoLoss.Compute(Tensor.FromArray([0f, 1f]), one));
        Assert.Throws<ShapeMismatchException>(() => SimpoLoss.Compute(Tensor.Zeros(1, 1), Tensor.Zeros(1, 1)));
    }
}
