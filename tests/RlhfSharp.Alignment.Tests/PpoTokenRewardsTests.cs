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
    private static readonly double[,] Logp = { { -1, -1, -1 }, { -2, -2, 77 } };
    private static readonly double[,] LogpRef = { { -1.5, -1, -0.5 }, { -1, -2, -77 } };
    private static readonly double[,] Mask = { { 1, 1, 1 }, { 1, 1, 0 } };

    private static void AssertGrid(double[,] want, double[,] got)
    {
        for (int b = 0; b < want.GetLength(0); b++)
            for (int t = 0; t < want.GetLength(1); t++)
                Assert.True(Math.Abs(want[b, t] - got[b, t]) < 1e-12, $"[{b}, {t}]: want {want[b, t]}, got {got[b, t]}");
    }

    [Fact]
    public void ScoreGoesOnTheLastRealTokenAndKlPenaltyEverywhere()
    {
        var r = TokenRewards.Compute([2, 3], [true, true], Logp, LogpRef, Mask, beta: 0.1);
        AssertGrid(new double[,] { { -0.05, 0, 2.05 }, { 0.1, 3, 0 } }, r.Rewards);
        AssertGrid(new double[,] { { -0.05, 0, 0.05 }, { 0.1, 0, 0 } }, r.KlPenalty);
        AssertGrid(new double[,] { { 0.5, 0, -0.5 }, { -1, 0, 0 } }, r.Kl);
        Assert.Equal(-0.5, r.MeanSequenceKl, 12);
        Assert.Equal(new double[] { 2, 3 }, r.Scores);
    }

    [Fact]
    public void MissingEosPenaltyOffsetsOrReplacesTheScore()
    {
        // Row 1 has no EOS; penalty 1: offset → 3 − 1 = 2; replace → −1. Row 0 keeps 2.
        var offset = TokenRewards.Compute([2, 3], [true, false], Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { MissingEosPenalty = 1 });
        Assert.Equal(new double[] { 2, 2 }, offset.Scores);
        Assert.Equal(2, offset.Rewards[1, 1], 12);
        var replace = TokenRewards.Compute([2, 3], [true, false], Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { MissingEosPenalty = 1, MissingEosMode = MissingEosMode.Replace });
        Assert.Equal(new double[] { 2, -1 }, replace.Scores);
        Assert.Equal(-1, replace.Rewards[1, 1], 12);
    }

    [Fact]
    public void ScoresAreClipped()
    {
        // Clip 1.5: scores (2, −3) → (1.5, −1.5); row 0's last token: 0.05 + 1.5 = 1.55.
        var r = TokenRewards.Compute([2, -3], [true, true], Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { ScoreClip = 1.5 });
        Assert.Equal(new double[] { 1.5, -1.5 }, r.Scores);
        Assert.Equal(1.55, r.Rewards[0, 2], 12);
        Assert.Equal(-1.5, r.Rewards[1, 1], 12);
    }

    [Fact]
    public void RunningNormaliserAppliesToScores()
    {
        // Fresh moments updated with (1, 3): mean 2, unbiased var (1 + 1)/1 = 2, std 1.414214
        // → normalised (−0.707107, 0.707107); without the mean shift: (0.707107, 2.121320).
        var moments = new RunningMoments();
        var r = TokenRewards.Compute([1, 3], [true, true], Logp, LogpRef, Mask, 0.1, moments: moments);
        Assert.Equal(-0.707107, r.Scores[0], 6);
        Assert.Equal(0.707107, r.Scores[1], 6);
        Assert.Equal(2, moments.Count);
        var scaled = TokenRewards.Compute([1, 3], [true, true], Logp, LogpRef, Mask, 0.1, new TokenRewardOptions { ScoreNormShiftMean = false }, new RunningMoments());
        Assert.Equal(0.707107, scaled.Scores[0], 6);
        Assert.Equal(2.121320, scaled.Scores[1], 6);
    }

    [Fact]
    public void TensorVersionAgrees()
    {
        var (rewards, details) = TokenRewards.Compute(
            Tensor.FromArray([2f, 3f]),
            Tensor.FromArray([1f, 0f]),
            ResponseMask.FromGrid(Logp),
            ResponseMask.FromGrid(LogpRef),
            ResponseMask.FromGrid(Mask),
            0.1,
            new TokenRewardOptions { MissingEosPenalty = 1 });
        Assert.Equal(new[] { 2, 3 }, rewards.Shape);
        var v = rewards.ToArray();
        Assert.Equal(2.05, v[2], 5);
        Assert.Equal(2, v[4], 5);
        Assert.Equal(0, v[5]);
        Assert.Equal(-0.5, details.MeanSequenceKl, 6);
    }

    [Fact]
    public void EmptyResponsesAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenRewards.Compute([1, 2], [true, true], Logp, LogpRef, new double[,] { { 1, 1, 1 }, { 0, 0, 0 } }, 0.1));
        Assert.Contains("response 1", e.Message);
    }
}
