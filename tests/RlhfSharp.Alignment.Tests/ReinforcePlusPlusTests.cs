using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Reinforce;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class ReinforcePlusPlusTests
{
    // Two responses, T = 3: row 0 has 3 real tokens, row 1 has 2 and one padded position whose KL
    // holds NaN (junk that must not leak). β = 0.1, γ = 1, scores (1, −1).
    //   KL row 0 (0.5, −0.2, 1.0), row 1 (0.3, 0.1 | NaN)
    //   rewards −β·KL plus the score on the last real token:
    //     row 0: (−0.05, 0.02, −0.1 + 1 = 0.9)       row 1: (−0.03, −0.01 − 1 = −1.01 | 0)
    //   returns (γ = 1, summed from the end):
    //     row 0: t2 0.9, t1 0.02 + 0.9 = 0.92, t0 −0.05 + 0.92 = 0.87
    //     row 1: t1 −1.01, t0 −0.03 − 1.01 = −1.04
    //   whitening over the 5 real tokens: mean (0.87 + 0.92 + 0.9 − 1.04 − 1.01)/5 = 0.64/5 = 0.128
    //     deviations 0.742, 0.792, 0.772, −1.168, −1.138; squares 0.550564, 0.627264, 0.595984,
    //     1.364224, 1.295044, sum 4.43308; unbiased variance 4.43308/4 = 1.10827
    //     A = deviation/√(1.10827 + 1e-8): 0.704825, 0.752320, 0.733322, −1.109481, −1.080985
    private static Tensor Kl() => Tensor.FromArray(new double[,] { { 0.5, -0.2, 1.0 }, { 0.3, 0.1, double.NaN } });

    private static Tensor Mask() => Tensor.FromArray(new float[,] { { 1, 1, 1 }, { 1, 1, 0 } });

    private static readonly double Std = Math.Sqrt(1.10827 + 1e-8);

    private static readonly double[] WantAdvantages = [0.742 / Std, 0.792 / Std, 0.772 / Std, -1.168 / Std, -1.138 / Std, 0];

    private static readonly double[] WantReturns = [0.87, 0.92, 0.9, -1.04, -1.01, 0];

    private static void AssertClose(double[] want, double[] got, int digits = 10)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(want[i], got[i], digits);
    }

    [Fact]
    public void AdvantagesAreWhitenedDiscountedReturnsOfKlPenaltyPlusScore()
    {
        var (advantages, returns) = ReinforcePlusPlus.Compute(Tensor.FromArray(new double[] { 1, -1 }, 2), Kl(), Mask(), beta: 0.1);
        Assert.Equal(DType.Float64, advantages.Dtype);
        Assert.Equal([2, 3], advantages.Shape);
        AssertClose(WantReturns, returns.ToDoubleArray());
        AssertClose(WantAdvantages, advantages.ToDoubleArray());
        Assert.Equal(0.704825, advantages.ToDoubleArray()[0], 6);
        Assert.Equal(-1.109481, advantages.ToDoubleArray()[3], 6);
        Assert.Equal(0, advantages.ToDoubleArray()[5]); // padding
    }

    [Fact]
    public void DiscountDecaysTheScoreTowardsTheStart()
    {
        // γ = 0.5 on the rewards above: row 0: t2 0.9, t1 0.02 + 0.5·0.9 = 0.47, t0 −0.05 + 0.5·0.47 = 0.185
        //                               row 1: t1 −1.01, t0 −0.03 + 0.5·(−1.01) = −0.535
        var rewards = ReinforcePlusPlus.PerTokenRewards([1, -1], Kl(), Mask(), beta: 0.1);
        AssertClose([-0.05, 0.02, 0.9, -0.03, -1.01, 0], rewards.ToDoubleArray(), 12);
        AssertClose([0.185, 0.47, 0.9, -0.535, -1.01, 0], ReinforcePlusPlus.DiscountedReturns(rewards, Mask(), 0.5).ToDoubleArray(), 12);
    }

    [Fact]
    public void WithoutKlEveryTokenCarriesItsScoreBeforeWhitening()
    {
        // β = 0, no KL: returns are the score on every real token: (1, 1, 1 | −1, −1); mean 1/5 = 0.2,
        // deviations 0.8 ×3, −1.2 ×2, squares 3·0.64 + 2·1.44 = 4.8, variance 4.8/4 = 1.2
        var (advantages, returns) = ReinforcePlusPlus.Compute(Tensor.FromArray(new double[] { 1, -1 }, 2), null, Mask(), beta: 0);
        AssertClose([1, 1, 1, -1, -1, 0], returns.ToDoubleArray(), 12);
        double s = Math.Sqrt(1.2 + 1e-8);
        AssertClose([0.8 / s, 0.8 / s, 0.8 / s, -1.2 / s, -1.2 / s, 0], advantages.ToDoubleArray());
    }

    [Fact]
    public void GroupBaselineSubtractsTheGroupMeanScoreFirst()
    {
        // one group of G = 2 with scores (3, 1): mean 2, centred (1, −1): the hand-worked case above
        var (advantages, returns) = ReinforcePlusPlus.ComputeWithGroupBaseline(Tensor.FromArray(new double[] { 3, 1 }, 2), 2, Kl(), Mask(), beta: 0.1);
        AssertClose(WantReturns, returns.ToDoubleArray());
        AssertClose(WantAdvantages, advantages.ToDoubleArray());

        // scores (5, 5): centred (0, 0); the returns are the KL penalties alone:
        //   row 0: t2 −0.1, t1 0.02 − 0.1 = −0.08, t0 −0.05 − 0.08 = −0.13; row 1: t1 −0.01, t0 −0.04
        var (_, equal) = ReinforcePlusPlus.ComputeWithGroupBaseline(Tensor.FromArray(new double[] { 5, 5 }, 2), 2, Kl(), Mask(), beta: 0.1);
        AssertClose([-0.13, -0.08, -0.1, -0.04, -0.01, 0], equal.ToDoubleArray(), 12);
    }

    [Fact]
    public void RegistryEntriesAreTheFunctions()
    {
        var inputs = new AdvantageInputs { ResponseMask = Mask(), Scores = Tensor.FromArray(new double[] { 3, 1 }, 2), Kl = Kl(), Beta = 0.1, GroupSize = 2 };
        var plain = AdvantageEstimators.Get("reinforce_plus_plus")(inputs with { Scores = Tensor.FromArray(new double[] { 1, -1 }, 2) });
        AssertClose(WantAdvantages, plain.Advantages.ToDoubleArray());
        AssertClose(WantReturns, plain.Returns!.ToDoubleArray());
        var baseline = AdvantageEstimators.Get("reinforce_plus_plus_baseline")(inputs);
        AssertClose(WantAdvantages, baseline.Advantages.ToDoubleArray());
        Assert.Contains("Scores", Assert.Throws<ArgumentException>(() => AdvantageEstimators.Get("reinforce_plus_plus")(inputs with { Scores = null })).Message);
        Assert.Contains("KL", Assert.Throws<ArgumentException>(() => AdvantageEstimators.Get("reinforce_plus_plus")(inputs with { Kl = null })).Message);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var scores = Tensor.FromArray(new double[] { 1, -1 }, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReinforcePlusPlus.Compute(scores, Kl(), Mask(), beta: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReinforcePlusPlus.Compute(scores, Kl(), Mask(), beta: 0.1, gamma: 1.5));
        Assert.Contains("KL", Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Compute(scores, null, Mask(), beta: 0.1)).Message);
        Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Compute(scores, Tensor.Zeros(2, 2), Mask(), beta: 0.1));
        Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Compute(Tensor.FromArray(new double[] { 1, 2, 3 }, 3), Kl(), Mask(), beta: 0.1));
        var empty = Tensor.FromArray(new float[,] { { 1, 1, 1 }, { 0, 0, 0 } });
        Assert.Contains("no real tokens", Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Compute(scores, Kl(), empty, beta: 0.1)).Message);
        var holed = Tensor.FromArray(new float[,] { { 1, 0, 1 }, { 1, 1, 0 } });
        Assert.Contains("right-padded", Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.Compute(scores, Kl(), holed, beta: 0.1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReinforcePlusPlus.ComputeWithGroupBaseline(scores, 1, Kl(), Mask(), beta: 0.1));
        Assert.Throws<ArgumentException>(() => ReinforcePlusPlus.ComputeWithGroupBaseline(Tensor.FromArray(new double[] { 1, 2, 3 }, 3), 2, null, Tensor.Ones(3, 2), beta: 0));
    }
}
