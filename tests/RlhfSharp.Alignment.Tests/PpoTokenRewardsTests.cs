using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class PpoTokenRewardsTests
{
    // Row 0 has 3 real tokens, row 1 has 2 (position 2 is padding with junk log-probs).
    //   logp     = (−1, −1, −1)     | (−2, −2, junk)
    //   logp_ref = (−1.5, −1, −0.5) | (−1, −2, junk)
    //   k1 = logp − logp_ref = (0.5, 0, −0.5) | (−1, 0, ·)
    //   β = 0.1: −β·KL = (−0.05, 0, 0.05) | (0.1, 0, 0)
    // Scores (2, 3) land on the last real tokens: rewards = (−0.05, 0, 2.05) | (0.1, 3, 0).
    // Σ_t KL per response: 0 and −1 → mean −0.5.
    private static readonly Tensor Logp = Tensor.FromArray(new double[,] { { -1, -1, -1 }, { -2, -2, 77 } });
    private static readonly Tensor LogpRef = Tensor.FromArray(new double[,] { { -1.5, -1, -0.5 }, { -1, -2, -77 } });
    private static readonly Tensor Mask = Tensor.FromArray(new double[,] { { 1, 1, 1 }, { 1, 1, 0 } });

    /// <summary>A float64 vector [B] (scores, or ended flags: 1 ended with EOS, 0 truncated).</summary>
    private static Tensor Vec(params double[] values) => Tensor.FromArray(values);

    private static void AssertGrid(double[,] want, Tensor got)
    {
        Assert.Equal(DType.Float64, got.Dtype);
        Assert.Equal(new[] { want.GetLength(0), want.GetLength(1) }, got.Shape);
        var g = got.ToDoubleArray();
        int cols = want.GetLength(1);
        for (int b = 0; b < want.GetLength(0); b++)
            for (int t = 0; t < cols; t++)
                Assert.True(Math.Abs(want[b, t] - g[(b * cols) + t]) < 1e-12, $"[{b}, {t}]: want {want[b, t]}, got {g[(b * cols) + t]}");
    }

    [Fact]
    public void ScoreGoesOnTheLastRealTokenAndKlPenaltyEverywhere()
    {
        var r = TokenRewards.Compute(Vec(2, 3), Vec(1, 1), Logp, LogpRef, Mask, beta: 0.1);
        AssertGrid(new double[,] { { -0.05, 0, 2.05 }, { 0.1, 3, 0 } }, r.Rewards);
        AssertGrid(new double[,] { { -0.05, 0, 0.05 }, { 0.1, 0, 0 } }, r.KlPenalty);
        AssertGrid(new double[,] { { 0.5, 0, -0.5 }, { -1, 0, 0 } }, r.Kl);
        Assert.Equal(-0.5, r.MeanSequenceKl, 12);
        Assert.Equal(new double[] { 2, 3 }, r.Scores.ToDoubleArray());
    }

    [Fact]
    public void MissingEosPenaltyOffsetsOrReplacesTheScore()
    {
        // Row 1 has no EOS; penalty 1: offset → 3 − 1 = 2; replace → −1. Row 0 keeps 2.
        var offset = TokenRewards.Compute(Vec(2, 3), Vec(1, 0), Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { MissingEosPenalty = 1 });
        Assert.Equal(new double[] { 2, 2 }, offset.Scores.ToDoubleArray());
        Assert.Equal(2, offset.Rewards.ToDoubleArray()[4], 12);
        var replace = TokenRewards.Compute(Vec(2, 3), Vec(1, 0), Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { MissingEosPenalty = 1, MissingEosMode = MissingEosMode.Replace });
        Assert.Equal(new double[] { 2, -1 }, replace.Scores.ToDoubleArray());
        Assert.Equal(-1, replace.Rewards.ToDoubleArray()[4], 12);
    }

    [Fact]
    public void ScoresAreClipped()
    {
        // Clip 1.5: scores (2, −3) → (1.5, −1.5); row 0's last token: 0.05 + 1.5 = 1.55.
        var r = TokenRewards.Compute(Vec(2, -3), Vec(1, 1), Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { ScoreClip = 1.5 });
        Assert.Equal(new double[] { 1.5, -1.5 }, r.Scores.ToDoubleArray());
        var rewards = r.Rewards.ToDoubleArray();
        Assert.Equal(1.55, rewards[2], 12);
        Assert.Equal(-1.5, rewards[4], 12);
    }

    [Fact]
    public void RunningNormaliserAppliesToScores()
    {
        // Fresh moments updated with (1, 3): mean 2, unbiased var (1 + 1)/1 = 2, std 1.414214
        // → normalised (−0.707107, 0.707107); without the mean shift: (0.707107, 2.121320).
        var moments = new RunningMoments();
        var r = TokenRewards.Compute(Vec(1, 3), Vec(1, 1), Logp, LogpRef, Mask, 0.1, moments: moments);
        var scores = r.Scores.ToDoubleArray();
        Assert.Equal(-0.707107, scores[0], 6);
        Assert.Equal(0.707107, scores[1], 6);
        Assert.Equal(2, moments.Count);
        var scaled = TokenRewards.Compute(Vec(1, 3), Vec(1, 1), Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { ScoreNormShiftMean = false }, new RunningMoments()).Scores.ToDoubleArray();
        Assert.Equal(0.707107, scaled[0], 6);
        Assert.Equal(2.121320, scaled[1], 6);
    }

    [Fact]
    public void Float32InputsGiveTheSameFloat64Rewards()
    {
        // Every input here is exact in float32, so float32 tensors (as a rollout holds them) give
        // the same float64 rewards: 2.05 on row 0's last token, 3 − 1 = 2 on row 1's (no EOS), 0 on padding.
        var r = TokenRewards.Compute(
            Tensor.FromArray([2f, 3f]),
            Tensor.FromArray([1f, 0f]),
            Logp.Float(),
            LogpRef.Float(),
            Mask.Float(),
            0.1,
            new TokenRewardOptions { MissingEosPenalty = 1 });
        Assert.Equal(new[] { 2, 3 }, r.Rewards.Shape);
        Assert.Equal(DType.Float64, r.Rewards.Dtype);
        var v = r.Rewards.ToDoubleArray();
        Assert.Equal(2.05, v[2], 12);
        Assert.Equal(2, v[4], 12);
        Assert.Equal(0, v[5]);
        Assert.Equal(-0.5, r.MeanSequenceKl, 12);
        var fromDoubles = TokenRewards.Compute(Vec(2, 3), Vec(1, 0), Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { MissingEosPenalty = 1 });
        Assert.Equal(fromDoubles.Rewards.ToDoubleArray(), v);
    }

    [Fact]
    public void EmptyResponsesAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenRewards.Compute(Vec(1, 2), Vec(1, 1), Logp, LogpRef, Tensor.FromArray(new double[,] { { 1, 1, 1 }, { 0, 0, 0 } }), 0.1));
        Assert.Contains("response 1", e.Message);
    }
}
