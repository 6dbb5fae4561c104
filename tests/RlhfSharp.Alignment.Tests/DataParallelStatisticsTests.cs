using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment.Tests;

/// <summary>
/// PPO's batch statistics when a batch's rows are spread over ranks: this rank's rows, plus the
/// sums another rank contributes (a stand-in that answers each all-reduce with fixed numbers).
/// </summary>
public sealed class DataParallelStatisticsTests
{
    [Fact]
    public void WhiteningUsesTheMeanAndVarianceOfEveryRanksTokens()
    {
        // This rank's real tokens are 1 and 2 (a padded 7 is ignored); the other rank holds 3, 4, 5.
        // Mean of all five: 15/5 = 3. Squared deviations: 4 + 1 here, 0 + 1 + 4 there: unbiased variance 10/4 = 2.5.
        // Whitened here: (1 − 3)/√2.5 = −1.264911, (2 − 3)/√2.5 = −0.632456.
        var values = Tensor.FromArray(new double[,] { { 1, 2, 7 } });
        var mask = Tensor.FromArray(new double[,] { { 1, 1, 0 } });
        var other = new OtherRank([[12, 3], [5, 3]]);
        var w = Whitening.Whiten(values, mask, other).ToDoubleArray();
        Assert.Equal(-2 / Math.Sqrt(2.5 + 1e-8), w[0], 12);
        Assert.Equal(-1 / Math.Sqrt(2.5 + 1e-8), w[1], 12);
        Assert.Equal(0, w[2]);
        Assert.Equal(0, other.Pending);
    }

    [Fact]
    public void ExplainedVarianceUsesEveryRanksTokens()
    {
        // Here: returns (1, 3), values (1, 1); there: returns sum 8 over 2 tokens (mean of all 4: 12/4 = 3),
        // Σ(R − 3)² there = 2, residuals R − V there sum 4 over 2 tokens with Σ(d − mean_d)² = 2.
        // Returns: Σ(R − 3)² = 4 + 0 + 2 = 6 → Var 6/4. Residuals here (0, 2), there sum 4: mean 6/4 = 1.5;
        // Σ(d − 1.5)² here = 2.25 + 0.25 = 2.5, there 2 → Var 4.5/4. EV = 1 − 4.5/6 = 0.25.
        var returns = Tensor.FromArray(new double[,] { { 1, 3 } });
        var values = Tensor.FromArray(new double[,] { { 1, 1 } });
        var mask = Tensor.FromArray(new double[,] { { 1, 1 } });
        // Each variance is a mean (Σ, n) then the squared deviations (Σ, n); returns first, residuals second.
        var other = new OtherRank([[8, 2], [2, 2], [4, 2], [2, 2]]);
        Assert.Equal(0.25, ExplainedVariance.Compute(values, returns, mask, other), 12);
    }

    [Fact]
    public void OnOneRankTheGlobalStatisticsAreTheLocalOnes()
    {
        var x = Tensor.FromArray(new double[,] { { 0.5, -1, 2 }, { 3, 9, 9 } });
        var mask = Tensor.FromArray(new double[,] { { 1, 1, 1 }, { 1, 0, 0 } });
        var one = SingleProcessCommunicator.Instance;
        Assert.Equal(Masked.Mean(x, mask).ItemDouble(), GlobalMasked.Mean(x, mask, one));
        Assert.Equal(Masked.Variance(x, mask).ItemDouble(), GlobalMasked.Variance(x, mask, one));
        Assert.Equal(Whitening.Whiten(x, mask).ToDoubleArray(), Whitening.Whiten(x, mask, one).ToDoubleArray());
    }

    [Fact]
    public void FinalScoresThenTheRowsShareGiveWhatComputeGives()
    {
        // A rank processes the whole batch's scores (EOS penalty, normaliser, clip) and keeps its rows.
        var logp = Tensor.FromArray(new double[,] { { -1, -1, -1 }, { -2, -2, 0 } });
        var refLogp = Tensor.FromArray(new double[,] { { -1.5, -1, -0.5 }, { -1, -2, 0 } });
        var mask = Tensor.FromArray(new double[,] { { 1, 1, 1 }, { 1, 1, 0 } });
        var options = new TokenRewardOptions { MissingEosPenalty = 1, ScoreClip = 0.9 };
        var whole = TokenRewards.Compute(Tensor.FromArray([2.0, 3.0]), Tensor.FromArray([1.0, 0.0]), logp, refLogp, mask, 0.1, options, new RunningMoments());
        var final = TokenRewards.FinalScores([2.0, 3.0], [1.0, 0.0], options, new RunningMoments());
        var split = TokenRewards.ComputeFromFinalScores(final, logp, refLogp, mask, 0.1, options);
        Assert.Equal(whole.Rewards.ToDoubleArray(), split.Rewards.ToDoubleArray());
        Assert.Equal(whole.Scores.ToDoubleArray(), split.Scores.ToDoubleArray());
        Assert.Equal(whole.MeanSequenceKl, split.MeanSequenceKl);
        Assert.Throws<ArgumentException>(() => TokenRewards.ComputeFromFinalScores([1.0], logp, refLogp, mask, 0.1));
    }

    // Rank 0 of two: each all-reduce adds the next of the other rank's contributions.
    private sealed class OtherRank(double[][] contributions) : Communicator
    {
        private readonly Queue<double[]> _next = new(contributions);

        public int Pending => _next.Count;

        public override int Rank => 0;

        public override int Size => 2;

        public override void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce")
        {
            var add = _next.Dequeue();
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(data);
            for (int i = 0; i < d.Length; i++)
                d[i] += add[i];
        }

        public override void Barrier(string what = "barrier") => throw new NotSupportedException();

        public override void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast") => throw new NotSupportedException();

        public override T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather") => throw new NotSupportedException();

        public override T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather") => throw new NotSupportedException();

        public override void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter") => throw new NotSupportedException();

        public override PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce") => throw new NotSupportedException();

        public override void Abort(int exitCode) => throw new NotSupportedException();
    }
}
