using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Reinforce;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class RemaxAdvantagesTests
{
    [Fact]
    public void AdvantageIsScoreMinusGreedyScoreOnEveryRealToken()
    {
        // scores (1, 0.5, 2), greedy scores of their prompts (0.5, 0.5, 3): A = (0.5, 0, −1)
        // mask lengths 2, 3, 1 (T = 3): [[0.5, 0.5, 0], [0, 0, 0], [−1, 0, 0]]
        var scores = Tensor.FromArray(new double[] { 1, 0.5, 2 }, 3);
        var greedy = Tensor.FromArray(new double[] { 0.5, 0.5, 3 }, 3);
        Assert.Equal([0.5, 0, -1], RemaxAdvantages.Compute(scores, greedy).ToDoubleArray());

        var mask = Tensor.FromArray(new float[,] { { 1, 1, 0 }, { 1, 1, 1 }, { 1, 0, 0 } });
        var output = AdvantageEstimators.Get("remax")(new AdvantageInputs { ResponseMask = mask, Scores = scores, GreedyScores = greedy });
        Assert.Null(output.Returns);
        Assert.Equal(DType.Float64, output.Advantages.Dtype);
        Assert.Equal([0.5, 0.5, 0, 0, 0, 0, -1, 0, 0], output.Advantages.ToDoubleArray());
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var three = Tensor.FromArray(new double[] { 1, 2, 3 }, 3);
        Assert.Throws<ShapeMismatchException>(() => RemaxAdvantages.Compute(three, Tensor.FromArray(new double[] { 1, 2 }, 2)));
        Assert.Throws<ShapeMismatchException>(() => RemaxAdvantages.Compute(Tensor.Zeros(3, 1), three));
        var inputs = new AdvantageInputs { ResponseMask = Tensor.Ones(3, 2), Scores = three };
        Assert.Contains("GreedyScores", Assert.Throws<ArgumentException>(() => AdvantageEstimators.Get("remax")(inputs)).Message);
        // one greedy score per row, not per prompt: a mask of 2 rows for 3 scores is a shape error
        Assert.Throws<ShapeMismatchException>(() => AdvantageEstimators.Get("remax")(inputs with { ResponseMask = Tensor.Ones(2, 2), GreedyScores = three }));
    }
}
