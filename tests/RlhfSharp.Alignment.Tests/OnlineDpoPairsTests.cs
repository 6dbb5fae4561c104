using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class OnlineDpoPairsTests
{
    // Four prompts, two answers each (rows 2p, 2p + 1), judged with missing_eos_penalty 0.5:
    //   pair 0: 1 vs 2, both ended                 -> the second is chosen (2 > 1)
    //   pair 1: 3 vs 3, both ended                 -> a tie: no preference, out of the loss
    //   pair 2: 0.5 (no EOS) vs 0.2                -> 0.5 − 0.5 = 0 < 0.2: the second is chosen (without the penalty, the first)
    //   pair 3: 1 vs 1 (no EOS)                    -> 1 > 1 − 0.5: the first is chosen (without the penalty, a tie)
    private static readonly double[] Scores = [1, 2, 3, 3, 0.5, 0.2, 1, 1];
    private static readonly bool[] Ended = [true, true, true, true, false, true, true, false];

    [Fact]
    public void TheHigherPenalisedScoreIsChosenAndTiesAreMarked()
    {
        var pairs = OnlineDpoPairs.Judge(Scores, Ended, missingEosPenalty: 0.5);

        Assert.Equal([false, true, false, true], pairs.Select(p => p.FirstChosen));
        Assert.Equal([false, true, false, false], pairs.Select(p => p.Tied));
        Assert.Equal([2, 3, 0.2, 1], pairs.Select(p => p.ChosenScore));
        Assert.Equal([1, 3, 0, 0.5], pairs.Select(p => p.RejectedScore));
        Assert.Equal([1, 2, 5, 6], pairs.Select((p, i) => p.ChosenRow(i)));
        Assert.Equal([0, 3, 4, 7], pairs.Select((p, i) => p.RejectedRow(i)));
    }

    [Fact]
    public void WithoutThePenaltyTheRawScoresDecide()
    {
        var pairs = OnlineDpoPairs.Judge(Scores, Ended, missingEosPenalty: 0);

        Assert.Equal([false, true, true, true], pairs.Select(p => p.FirstChosen));
        Assert.Equal([false, true, false, true], pairs.Select(p => p.Tied));
    }

    [Fact]
    public void MalformedBatchesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => OnlineDpoPairs.Judge([1, 2, 3], [true, true, true], 0));
        Assert.Throws<ArgumentException>(() => OnlineDpoPairs.Judge([1, 2], [true], 0));
        var pairs = OnlineDpoPairs.Judge([1, 2], [true, true], 0);
        Assert.Throws<ShapeMismatchException>(() => OnlineDpoPairs.Loss(Tensor.FromArray(new float[3]), Tensor.FromArray(new float[3]), pairs, 0.1, DpoLossType.Sigmoid));
    }

    [Fact]
    public void OnePairByHand()
    {
        // Answers: policy (−2, −1), reference (−1.5, −1.5); the second scored higher, so chosen = row 1.
        // u = (−1 − (−1.5)) − (−2 − (−1.5)) = 0.5 + 0.5 = 1; loss = softplus(−β·u) = ln(1 + e^−0.1) = 0.644397
        var pairs = OnlineDpoPairs.Judge([0, 1], [true, true], 0);
        var output = OnlineDpoPairs.Loss(Tensor.FromArray([-2f, -1f]), Tensor.FromArray([-1.5f, -1.5f]), pairs, 0.1, DpoLossType.Sigmoid)!;

        Assert.Equal(0.644397, output.Loss.Item(), 5);
        Assert.Equal(0.05, output.RewardsChosen, 6);
        Assert.Equal(-0.05, output.RewardsRejected, 6);
        Assert.Equal(1, output.RewardsAccuracies);
    }

    [Theory]
    [InlineData(DpoLossType.Sigmoid)]
    [InlineData(DpoLossType.Ipo)]
    public void TheLossIsDpoLossOnTheUntiedPairsWithItsGradient(DpoLossType type)
    {
        float[] policy = [-3f, -2f, -4f, -4.5f, -1f, -6f, -2.5f, -3.5f];
        float[] reference = [-2.5f, -2.5f, -4f, -4f, -2f, -5f, -3f, -3f];
        var pairs = OnlineDpoPairs.Judge(Scores, Ended, 0.5);

        var p = Tensor.FromArray(policy);
        p.RequiresGrad = true;
        var output = OnlineDpoPairs.Loss(p, Tensor.FromArray(reference), pairs, 0.1, type)!;
        output.Loss.Backward();

        // The untied pairs 0, 2 and 3 as (chosen, rejected) rows: (1, 0), (5, 4), (6, 7); pair 1 is left out.
        var chosen = Tensor.FromArray([policy[1], policy[5], policy[6]]);
        var rejected = Tensor.FromArray([policy[0], policy[4], policy[7]]);
        chosen.RequiresGrad = true;
        rejected.RequiresGrad = true;
        var expected = DpoLoss.Compute(chosen, rejected, Tensor.FromArray([reference[1], reference[5], reference[6]]),
            Tensor.FromArray([reference[0], reference[4], reference[7]]), 0.1, type);
        expected.Loss.Backward();

        Assert.Equal(expected.Loss.Item(), output.Loss.Item());
        Assert.Equal(expected.ToMetrics(), output.ToMetrics());
        var g = p.Grad!.ToArray();
        var gc = chosen.Grad!.ToArray();
        var gr = rejected.Grad!.ToArray();
        Assert.Equal([gr[0], gc[0], 0, 0, gr[1], gc[1], gc[2], gr[2]], g);
    }

    [Fact]
    public void ABatchOfTiesHasNoLoss()
    {
        var pairs = OnlineDpoPairs.Judge([1, 1, 2, 2], [true, true, false, false], 0.3);

        Assert.All(pairs, p => Assert.True(p.Tied));
        Assert.Null(OnlineDpoPairs.Loss(Tensor.FromArray(new float[4]), Tensor.FromArray(new float[4]), pairs, 0.1, DpoLossType.Sigmoid));
    }
}
