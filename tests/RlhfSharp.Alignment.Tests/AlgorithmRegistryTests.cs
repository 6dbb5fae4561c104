using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class AlgorithmRegistryTests
{
    // Two prompts, G = 3 responses each: scores (1, 2, 3) and (0, 0, 6), as in GrpoAdvantagesTests.
    // Right-padded mask [6, 3], response lengths 3, 2, 1, 3, 1, 2.
    private static readonly double[] Scores = [1, 2, 3, 0, 0, 6];
    private static readonly int[] Lengths = [3, 2, 1, 3, 1, 2];

    private static Tensor Mask()
    {
        var m = new float[6 * 3];
        for (int b = 0; b < 6; b++)
        {
            for (int t = 0; t < Lengths[b]; t++)
                m[(b * 3) + t] = 1;
        }
        return Tensor.FromArray(m, 6, 3);
    }

    /// <summary>One value per response spread over its real tokens, 0 on padding: [6] -> [6·3] row-major.</summary>
    private static double[] Broadcast(double[] perResponse)
    {
        var result = new double[6 * 3];
        for (int b = 0; b < 6; b++)
        {
            for (int t = 0; t < Lengths[b]; t++)
                result[(b * 3) + t] = perResponse[b];
        }
        return result;
    }

    private static AdvantageInputs OutcomeInputs(bool scaleByStd = true) => new()
    {
        ResponseMask = Mask(),
        Scores = Tensor.FromArray(Scores, 6),
        GroupSize = 3,
        ScaleByStd = scaleByStd,
    };

    [Fact]
    public void AdvantageEstimatorNamesAreSorted()
    {
        Assert.Equal(["gae", "grpo", "reinforce_plus_plus", "reinforce_plus_plus_baseline", "remax", "rloo"], AdvantageEstimators.Names);
        Assert.Equal(["grpo", "reinforce_plus_plus", "reinforce_plus_plus_baseline", "remax", "rloo"], AdvantageEstimators.CriticFree);
    }

    [Fact]
    public void UnknownAdvantageEstimatorListsTheValidOnes()
    {
        var e = Assert.Throws<UnknownAlgorithmException>(() => AdvantageEstimators.Get("nope"));
        Assert.Equal("nope", e.Name);
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("gae, grpo, reinforce_plus_plus, reinforce_plus_plus_baseline, remax, rloo", e.Message);
    }

    [Fact]
    public void GrpoIsGroupAdvantagesBroadcastOverTheMask()
    {
        // group-normalised advantages (GrpoAdvantagesTests): (−1, 0, 1)/(1 + 1e-6) and (−2, −2, 4)/(√12 + 1e-6)
        double s1 = 1 + 1e-6, s2 = Math.Sqrt(12) + 1e-6;
        double[] perResponse = [-1 / s1, 0, 1 / s1, -2 / s2, -2 / s2, 4 / s2];
        var output = AdvantageEstimators.Get("grpo")(OutcomeInputs());
        Assert.Null(output.Returns);
        Assert.Equal([6, 3], output.Advantages.Shape);
        Assert.Equal(DType.Float64, output.Advantages.Dtype);
        var a = output.Advantages.ToDoubleArray();
        var want = Broadcast(perResponse);
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], a[i], 12);
        // and exactly what GroupAdvantages gives
        var direct = GroupAdvantages.ToTokens(GroupAdvantages.Compute(Tensor.FromArray(Scores, 6), 3), Mask());
        Assert.Equal(direct.ToDoubleArray(), a);

        // Dr. GRPO (no std scaling): (−1, 0, 1) and (−2, −2, 4), exactly
        var centred = AdvantageEstimators.Get("grpo")(OutcomeInputs(scaleByStd: false)).Advantages.ToDoubleArray();
        Assert.Equal(Broadcast([-1, 0, 1, -2, -2, 4]), centred);
    }

    [Fact]
    public void RlooIsLeaveOneOutAdvantagesBroadcastOverTheMask()
    {
        // (−1.5, 0, 1.5) and (−3, −3, 6), see GrpoAdvantagesTests
        var output = AdvantageEstimators.Get("rloo")(OutcomeInputs());
        Assert.Null(output.Returns);
        Assert.Equal(Broadcast([-1.5, 0, 1.5, -3, -3, 6]), output.Advantages.ToDoubleArray());
    }

    [Fact]
    public void OutcomeEstimatorsNeedScores()
    {
        var inputs = OutcomeInputs() with { Scores = null };
        var e = Assert.Throws<ArgumentException>(() => AdvantageEstimators.Get("grpo")(inputs));
        Assert.Contains("Scores", e.Message);
    }

    [Fact]
    public void GaeIsGaeComputeAdvantagesAndReturns()
    {
        // γ = 1, λ = 0.5. Row 0: rewards (0, 0, 1), values (0.5, 0.6, 0.7), 3 real tokens:
        //   t = 2: δ = 1 + 0 − 0.7 = 0.3,    A = 0.3,                R = 0.3 + 0.7 = 1
        //   t = 1: δ = 0 + 0.7 − 0.6 = 0.1,  A = 0.1 + 0.5·0.3 = 0.25,  R = 0.85
        //   t = 0: δ = 0 + 0.6 − 0.5 = 0.1,  A = 0.1 + 0.5·0.25 = 0.225, R = 0.725
        // Row 1: rewards (2, 9, 9), values (1, 9, 9), 1 real token: δ = 2 − 1 = 1, A = 1, R = 2; padding 0.
        var rewards = Tensor.FromArray(new double[,] { { 0, 0, 1 }, { 2, 9, 9 } });
        var values = Tensor.FromArray(new double[,] { { 0.5, 0.6, 0.7 }, { 1, 9, 9 } });
        var mask = Tensor.FromArray(new float[,] { { 1, 1, 1 }, { 1, 0, 0 } });
        var inputs = new AdvantageInputs { ResponseMask = mask, TokenRewards = rewards, Values = values, Gamma = 1, Lambda = 0.5 };
        var output = AdvantageEstimators.Get("gae")(inputs);
        Assert.NotNull(output.Returns);

        double[] wantAdvantages = [0.225, 0.25, 0.3, 1, 0, 0];
        double[] wantReturns = [0.725, 0.85, 1, 2, 0, 0];
        var a = output.Advantages.ToDoubleArray();
        var r = output.Returns!.ToDoubleArray();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(wantAdvantages[i], a[i], 12);
            Assert.Equal(wantReturns[i], r[i], 12);
        }

        var (advantages, returns) = Gae.Compute(rewards, values, mask, 1, 0.5);
        Assert.Equal(advantages.ToDoubleArray(), a);
        Assert.Equal(returns.ToDoubleArray(), r);
    }

    [Fact]
    public void GaeNeedsRewardsAndValues()
    {
        var e = Assert.Throws<ArgumentException>(() => AdvantageEstimators.Get("gae")(OutcomeInputs()));
        Assert.Contains("TokenRewards", e.Message);
    }

    [Fact]
    public void PolicyLossNames()
    {
        Assert.Equal(["dual_clip", "gspo", "ppo_clip"], PolicyLosses.Names);
        var e = Assert.Throws<UnknownAlgorithmException>(() => PolicyLosses.Get("nope"));
        Assert.Equal("nope", e.Name);
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("dual_clip, gspo, ppo_clip", e.Message);
    }

    [Fact]
    public void PpoClipIsPolicyLossPpoClip()
    {
        Assert.Equal((PolicyLossFunction)PolicyLoss.PpoClip, PolicyLosses.Get("ppo_clip"));

        // ratios (1.1, 1.5 | 0.5, padding), advantages (1, 1 | −1, 0), ε = 0.2:
        //   −r·A vs −clip(r)·A: (−1.1, −1.1) -> −1.1; (−1.5, −1.2) -> −1.2 (clipped); (0.5, 0.8) -> 0.8 (clipped)
        //   token mean (−1.1 − 1.2 + 0.8)/3 = −0.5, clip fraction 2/3
        static (Tensor Logp, Tensor Old, Tensor Advantages, Tensor Mask) Example()
        {
            var logp = Tensor.FromArray([MathF.Log(1.1f), MathF.Log(1.5f), MathF.Log(0.5f), 0f], 2, 2);
            logp.RequiresGrad = true;
            return (logp, Tensor.Zeros(2, 2), Tensor.FromArray(new double[] { 1, 1, -1, 0 }, 2, 2), Tensor.FromArray([1f, 1f, 1f, 0f], 2, 2));
        }

        var settings = new PolicyLossSettings { ClipLow = 0.2 };
        var (lp1, old1, adv1, mask1) = Example();
        var viaRegistry = PolicyLosses.Get("ppo_clip")(lp1, old1, adv1, mask1, settings);
        var (lp2, old2, adv2, mask2) = Example();
        var direct = PolicyLoss.PpoClip(lp2, old2, adv2, mask2, settings);

        // float32 loss of ratios of order 1: 5 decimals
        Assert.Equal(-0.5, viaRegistry.Loss.Item(), 5);
        Assert.Equal(2.0 / 3, viaRegistry.ClipFraction, 12);
        Assert.Equal(direct.Loss.Item(), viaRegistry.Loss.Item());
        Assert.Equal(direct.PerToken.ToArray(), viaRegistry.PerToken.ToArray());
        Assert.Equal(direct.ClipFraction, viaRegistry.ClipFraction);
        Assert.Equal(direct.ApproxKl, viaRegistry.ApproxKl);
        Assert.Equal(direct.RatioMean, viaRegistry.RatioMean);
        Assert.Equal(direct.RatioMax, viaRegistry.RatioMax);
        viaRegistry.Loss.Backward();
        direct.Loss.Backward();
        Assert.Equal(lp2.Grad!.ToArray(), lp1.Grad!.ToArray());
    }
}
