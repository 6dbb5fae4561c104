using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class KtoLossTests
{
    private static readonly float Ln3 = MathF.Log(3f);

    /// <summary>
    /// float32 loss against hand numbers rounded to 6 decimals: a few float ops on values of order 1 carry
    /// ~1e-7 relative error, so 1e-5 relative (absolute floor 1e-5) is above both and far below a mistake.
    /// </summary>
    private static void AssertClose(double expected, double actual)
    {
        double tolerance = 1e-5 * Math.Max(Math.Abs(expected), 1);
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"expected {expected} ± {tolerance}, got {actual}");
    }

    // β = 0.5 and the KL pairs (policy − reference = 1 and 3) give z_ref = max(0, (1 + 3)/2) = 2. Four
    // examples, log-ratios ρ = π − ref chosen so that β·(ρ − z_ref) is 0 or ±ln 3 (σ(ln 3) = ¾):
    //   desirable,   ρ = 2:          1 − σ(0)      = ½
    //   desirable,   ρ = 2 + 2·ln 3: 1 − σ(ln 3)   = ¼
    //   undesirable, ρ = 2 − 2·ln 3: 1 − σ(ln 3)   = ¼   (β·(z_ref − ρ) = ln 3)
    //   undesirable, ρ = 2 + 2·ln 3: 1 − σ(−ln 3)  = ¾
    private static readonly float[] Policy = [-8f, -8f + (2 * Ln3), -10f - (2 * Ln3), -4f + (2 * Ln3)];
    private static readonly float[] Reference = [-10f, -10f, -12f, -6f];
    private static readonly bool[] Desirable = [true, true, false, false];
    private static Tensor KlPolicy() => Tensor.FromArray([-4f, -2f]);
    private static Tensor KlReference() => Tensor.FromArray([-5f, -5f]);

    private static KtoOutput Run(double desirableWeight = 1, double undesirableWeight = 1) =>
        KtoLoss.Compute(Tensor.FromArray(Policy), Tensor.FromArray(Reference), Desirable, KlPolicy(), KlReference(), 0.5, desirableWeight, undesirableWeight);

    [Fact]
    public void LossAndMetricsMatchHandWorkedNumbers()
    {
        // loss = (½ + ¼ + ¼ + ¾)/4 = 1.75/4 = 0.4375
        var output = Run();
        Assert.Empty(output.Loss.Shape);
        AssertClose(0.4375, output.Loss.Item());
        Assert.Equal(2, output.Kl, 12);
        // rewards β·ρ: desirable (1, 1 + ln 3), undesirable (1 − ln 3, 1 + ln 3)
        //   rewards/chosen = 1 + ln 3/2 = 1.549306, rewards/rejected = 1, margins = 0.549306
        //   logps/chosen = (−8 − 8 + 2·ln 3)/2 = −6.901388, logps/rejected = (−14)/2 = −7
        AssertClose(1.549306, output.RewardsChosen);
        AssertClose(1, output.RewardsRejected);
        AssertClose(0.549306, output.RewardsMargins);
        AssertClose(-6.901388, output.LogpsChosen);
        AssertClose(-7, output.LogpsRejected);
        Assert.Equal(2, output.CountChosen);
        Assert.Equal(2, output.CountRejected);
        Assert.Equal(
            ["loss", "kl", "rewards/chosen", "logps/chosen", "rewards/rejected", "logps/rejected", "rewards/margins", "count/chosen", "count/rejected"],
            output.ToMetrics().Keys);
    }

    [Fact]
    public void WeightsScaleEachSide()
    {
        // λ_D = 1, λ_U = 2: (½ + ¼ + 2·¼ + 2·¾)/4 = 2.75/4 = 0.6875; λ_D = 3, λ_U = 1: (1.5 + 0.75 + 1)/4 = 0.8125
        AssertClose(0.6875, Run(1, 2).Loss.Item());
        AssertClose(0.8125, Run(3, 1).Loss.Item());
    }

    [Fact]
    public void ANegativeKlEstimateIsClampedToZero()
    {
        // KL pairs with policy − reference = −1 and −3: mean −2, z_ref = max(0, −2) = 0
        Assert.Equal(0, KtoLoss.KlEstimate(Tensor.FromArray([-6f, -8f]), Tensor.FromArray([-5f, -5f])));
        // one desirable example with ρ = 2·ln 3, β = 0.5, z_ref = 0: 1 − σ(ln 3) = ¼
        var output = KtoLoss.Compute(Tensor.FromArray([2 * Ln3]), Tensor.FromArray([0f]), [true], Tensor.FromArray([-6f, -8f]), Tensor.FromArray([-5f, -5f]), 0.5);
        AssertClose(0.25, output.Loss.Item());
        Assert.Equal(0, output.Kl);
    }

    [Fact]
    public void ABatchWithOneSideLeavesItsMeansOut()
    {
        // only undesirable examples: no rewards/chosen or logps/chosen; margins read the missing side as 0
        var output = KtoLoss.Compute(Tensor.FromArray([-4f]), Tensor.FromArray([-6f]), [false], 0, beta: 0.5);
        Assert.True(double.IsNaN(output.RewardsChosen));
        Assert.Equal(1, output.RewardsRejected, 12);
        Assert.Equal(-1, output.RewardsMargins, 12);
        var metrics = output.ToMetrics();
        Assert.False(metrics.ContainsKey("rewards/chosen"));
        Assert.False(metrics.ContainsKey("logps/chosen"));
        Assert.Equal(0, metrics["count/chosen"]);
        Assert.All(metrics.Values, v => Assert.False(double.IsNaN(v)));
    }

    [Fact]
    public void GradientFlowsIntoThePolicyOnly()
    {
        // ∂/∂π_i of w·(1 − σ(s·β·(ρ − z)))/B = −w·s·β·σ'(·)/B with σ' = σ·(1 − σ):
        //   example 1 (desirable, σ(0) = ½):    −0.5·¼/4        = −0.03125
        //   example 2 (desirable, σ = ¾):      −0.5·(3/16)/4   = −0.0234375
        //   example 3 (undesirable, σ = ¾):    +0.5·(3/16)/4   = +0.0234375
        //   example 4 (undesirable, σ = ¼):    +0.5·(3/16)/4   = +0.0234375
        var policy = Tensor.FromArray(Policy);
        var reference = Tensor.FromArray(Reference);
        var klPolicy = KlPolicy();
        policy.RequiresGrad = true;
        reference.RequiresGrad = true;
        klPolicy.RequiresGrad = true;
        KtoLoss.Compute(policy, reference, Desirable, klPolicy, KlReference(), 0.5).Loss.Backward();
        var g = policy.Grad!.ToArray();
        Assert.Equal(-0.03125, g[0], 5);
        Assert.Equal(-0.0234375, g[1], 5);
        Assert.Equal(0.0234375, g[2], 5);
        Assert.Equal(0.0234375, g[3], 5);
        Assert.Null(reference.Grad);
        Assert.Null(klPolicy.Grad);
    }

    [Fact]
    public void PaddingDoesNotCount()
    {
        // Both rows: 2 response tokens of policy log-prob ln ¾ then 2 padding tokens under garbage logits.
        // The reference has logits 0 everywhere: ln ½ per token. ρ = 2·(ln ¾ − ln ½) = 2·ln 1.5 per row.
        // β = ln 3/(2·ln 1.5), z_ref = 0: β·ρ = ln 3, so desirable 1 − σ(ln 3) = ¼, undesirable 1 − σ(−ln 3) = ¾;
        // λ_U = 2: (¼ + 2·¾)/2 = 0.875
        var (logits, ids, mask) = PaddedResponses.Batch(PaddedResponses.Short(), PaddedResponses.Short());
        var policy = SequenceLogProbs.Sum(logits, ids, mask);
        var reference = SequenceLogProbs.Sum(Tensor.Zeros(2, PaddedResponses.T, 2), ids, mask);
        Assert.Equal(2 * Math.Log(0.75), policy.ToArray()[0], 5);
        double beta = Math.Log(3) / (2 * Math.Log(1.5));
        var output = KtoLoss.Compute(policy, reference, [true, false], 0, beta, undesirableWeight: 2);
        AssertClose(0.875, output.Loss.Item());
    }

    [Fact]
    public void ExtremeLogRatiosStayFinite()
    {
        // β·(ρ − z) = ±5000: σ saturates to 0 or 1, the loss is 0 or 1 per example, never NaN
        var policy = Tensor.FromArray([1e4f, -1e4f, 1e4f, -1e4f]);
        policy.RequiresGrad = true;
        var output = KtoLoss.Compute(policy, Tensor.Zeros(4), [true, true, false, false], 0, 0.5);
        // losses 0, 1, 1, 0
        AssertClose(0.5, output.Loss.Item());
        output.Loss.Backward();
        Assert.All(policy.Grad!.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var one = Tensor.FromArray([-1f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.Compute(one, one, [true], 0, beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.Compute(one, one, [true], 0, desirableWeight: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.Compute(one, one, [true], 0, undesirableWeight: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.Compute(one, one, [true], -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.Compute(one, one, [true], double.NaN));
        var e = Assert.Throws<ArgumentException>(() => KtoLoss.Compute(one, one, [true, false], 0));
        Assert.Contains("one label per example", e.Message);
        Assert.Throws<ShapeMismatchException>(() => KtoLoss.Compute(Tensor.FromArray([0f, 1f]), one, [true, true], 0));
        Assert.Throws<ShapeMismatchException>(() => KtoLoss.KlEstimate(Tensor.FromArray([0f, 1f]), one));
    }
}
