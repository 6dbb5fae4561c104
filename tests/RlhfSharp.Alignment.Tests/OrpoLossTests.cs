using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class OrpoLossTests
{
    // Two pairs of length-normalised log-probs m = ln p, with p chosen so the odds p/(1 − p) are simple:
    //   pair 1: p_w = ½ (odds 1, log odds 0),        p_l = ⅕ (odds ¼, log odds −ln 4)
    //   pair 2: p_w = ¼ (odds ⅓, log odds −ln 3),    p_l = ½ (odds 1, log odds 0)
    private static readonly float[] Chosen = [MathF.Log(0.5f), MathF.Log(0.25f)];
    private static readonly float[] Rejected = [MathF.Log(0.2f), MathF.Log(0.5f)];

    /// <summary>
    /// float32 loss against hand numbers rounded to 6 decimals: the few float ops (exp/log/tanh of values
    /// of order 1) carry ~1e-6 relative error at most, so 1e-5 relative (absolute floor 1e-5) is above
    /// both and far below a mistake (a missing λ, a sign, odds instead of log odds).
    /// </summary>
    private static void AssertClose(double expected, double actual)
    {
        double tolerance = 1e-5 * Math.Max(Math.Abs(expected), 1);
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"expected {expected} ± {tolerance}, got {actual}");
    }

    [Fact]
    public void LossAndMetricsMatchHandWorkedNumbers()
    {
        // log odds ratios: pair 1: 0 − (−ln 4) = ln 4 = 1.386294, σ(ln 4) = 4/5, log σ = ln 0.8 = −0.223144
        //                  pair 2: −ln 3 − 0 = −1.098612,        σ(−ln 3) = 1/4, log σ = ln 0.25 = −1.386294
        // L_NLL = −(ln ½ + ln ¼)/2 = (0.693147 + 1.386294)/2 = 1.039721
        // λ = 0.1: L = 1.039721 − 0.1·(−0.223144 − 1.386294)/2 = 1.039721 + 0.080472 = 1.120193
        var output = OrpoLoss.Compute(Tensor.FromArray(Chosen), Tensor.FromArray(Rejected), beta: 0.1);
        Assert.Empty(output.Loss.Shape);
        AssertClose(1.120193, output.Loss.Item());
        AssertClose(1.039721, output.NllLoss);
        // log_odds_ratio = mean log σ = −0.804719; log_odds_chosen = mean ratio = (1.386294 − 1.098612)/2 = 0.143841
        AssertClose(-0.804719, output.LogOddsRatio);
        AssertClose(0.143841, output.LogOddsChosen);
        // rewards β·m: chosen 0.1·(−0.693147 − 1.386294)/2 = −0.103972, rejected 0.1·(−1.609438 − 0.693147)/2 = −0.115129
        // margins 0.1·(0.916291 − 0.693147)/2 = 0.011157; accuracies: pair 1 only = ½
        AssertClose(-0.103972, output.RewardsChosen);
        AssertClose(-0.115129, output.RewardsRejected);
        AssertClose(0.011157, output.RewardsMargins);
        Assert.Equal(0.5, output.RewardsAccuracies, 12);
        AssertClose(-1.039721, output.LogpsChosen);
        AssertClose(-1.151293, output.LogpsRejected);
        Assert.Equal(
            ["loss", "nll_loss", "log_odds_ratio", "log_odds_chosen", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"],
            output.ToMetrics().Keys);
    }

    [Fact]
    public void AGivenNllTermReplacesTheDefaultAndCarriesItsGradient()
    {
        // L = 2.5 + 0.080472 (the odds-ratio term above), and ∂L/∂nll = 1
        var nll = Tensor.Scalar(2.5f);
        nll.RequiresGrad = true;
        var output = OrpoLoss.Compute(Tensor.FromArray(Chosen), Tensor.FromArray(Rejected), 0.1, nll);
        AssertClose(2.580472, output.Loss.Item());
        Assert.Equal(2.5, output.NllLoss, 12);
        output.Loss.Backward();
        Assert.Equal(1f, nll.Grad!.Item());
    }

    [Fact]
    public void GradientMatchesHandWorkedNumbers()
    {
        // Pair 1, B = 1, λ = 0.1: L = −m_w − λ·log σ(lo_w − lo_l), d lo/dm = 1/(1 − p), σ(−ratio) = 1/5:
        //   ∂L/∂m_w = −1 − λ·σ(−ratio)/(1 − p_w) = −1 − 0.1·0.2·2    = −1.04
        //   ∂L/∂m_l =      λ·σ(−ratio)/(1 − p_l) =      0.1·0.2·1.25 =  0.025
        var c = Tensor.FromArray([Chosen[0]]);
        var r = Tensor.FromArray([Rejected[0]]);
        c.RequiresGrad = true;
        r.RequiresGrad = true;
        OrpoLoss.Compute(c, r, 0.1).Loss.Backward();
        Assert.Equal(-1.04, c.Grad!.Item(), 5);
        Assert.Equal(0.025, r.Grad!.Item(), 5);
    }

    [Fact]
    public void LogOddsAreAccurateNearCertainty()
    {
        // m_w = −10⁻⁶, m_l = −3·10⁻⁶: log odds = −ln(e^−m − 1) = −ln(expm1(−m)), so
        //   ratio = ln(expm1(3·10⁻⁶)/expm1(10⁻⁶)) = ln 3 + 10⁻⁶ = 1.098613, log σ(ratio) = ln ¾ = −0.287682.
        // Written naively, e^m rounds in float32 to a whole number of steps 2⁻²⁴ below 1 (17 and 50 steps
        // for 16.8 and 50.3), so 1 − e^m is off by up to 3% and the ratio would be ln(50/17) = 1.078812;
        // 10⁻⁵ absolute tells the two apart.
        var output = OrpoLoss.Compute(Tensor.FromArray([-1e-6f]), Tensor.FromArray([-3e-6f]), 0.1);
        AssertClose(1.098613, output.LogOddsChosen);
        AssertClose(-0.287682, output.LogOddsRatio);
        // L = 10⁻⁶ + 0.1·0.287682
        AssertClose(0.028769, output.Loss.Item());
    }

    [Fact]
    public void CertainResponsesStayFiniteAndTheRejectedOneIsStillPushedDown()
    {
        // m = 0 (p = 1, infinite odds) on both sides reads as m = −2⁻²⁴: log odds ≈ 16.6355 each, ratio 0,
        // L = 0 + 0.1·ln 2 = 0.069315. The gradient is the derivative at the cap: for the rejected side
        // λ·σ(0)/(1 − e^−2⁻²⁴) = 0.1·0.5·2²⁴ ≈ 8.4·10⁵, large but finite and of the right sign.
        var c = Tensor.FromArray([0f]);
        var r = Tensor.FromArray([0f]);
        c.RequiresGrad = true;
        r.RequiresGrad = true;
        var output = OrpoLoss.Compute(c, r, 0.1);
        AssertClose(0.069315, output.Loss.Item());
        output.Loss.Backward();
        Assert.True(float.IsFinite(c.Grad!.Item()) && float.IsFinite(r.Grad!.Item()));
        Assert.InRange(r.Grad!.Item(), 0.8e6, 0.9e6);
        // ∂L/∂m_w = −1 − (the same), finite
        Assert.InRange(c.Grad!.Item(), -0.9e6, -0.8e6);
    }

    [Fact]
    public void VeryUnlikelyResponsesStayFinite()
    {
        // m_w = −10⁴ (large |logits|): 1 − e^m = 1, so log odds = m = −10⁴.
        var c = Tensor.FromArray([-1e4f]);
        c.RequiresGrad = true;
        var output = OrpoLoss.Compute(c, Tensor.FromArray([-5f]), 0.1);
        // m_l = −5: log odds = −5 − ln(1 − e^−5) = −5 + 0.006760 = −4.993240; ratio = −9995.006760,
        // log σ(ratio) = ratio to float precision; L = 10⁴ + 0.1·9995.006760 = 10999.500676
        AssertClose(10000 + (0.1 * 9995.006760), output.Loss.Item());
        output.Loss.Backward();
        Assert.True(float.IsFinite(c.Grad!.Item()));
    }

    [Fact]
    public void LengthNormalisationCountsOnlyResponseTokens()
    {
        // m_w = ln ¾ (2 response tokens, 2 padding), m_l = ln ¼ (4 response tokens):
        //   log odds ln 3 and −ln 3, ratio ln 9, σ(ln 9) = 0.9, log σ = −0.105361
        //   L = −ln ¾ + 0.1·0.105361 = 0.287682 + 0.010536 = 0.298218
        var (logits, ids, mask) = PaddedResponses.Batch(PaddedResponses.Short(), PaddedResponses.Long());
        var m = SequenceLogProbs.Mean(logits, ids, mask).ToArray();
        var output = OrpoLoss.Compute(Tensor.FromArray([m[0]]), Tensor.FromArray([m[1]]), 0.1);
        AssertClose(0.298218, output.Loss.Item());
        AssertClose(Math.Log(9), output.LogOddsChosen);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var one = Tensor.FromArray([-1f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => OrpoLoss.Compute(one, one, beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrpoLoss.Compute(one, one, beta: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrpoLoss.Compute(one, one, beta: double.NaN));
        Assert.Throws<ShapeMismatchException>(() => OrpoLoss.Compute(Tensor.FromArray([0f, 1f]), one));
        Assert.Throws<ShapeMismatchException>(() => OrpoLoss.Compute(one, one, 0.1, Tensor.FromArray([1f])));
    }
}
