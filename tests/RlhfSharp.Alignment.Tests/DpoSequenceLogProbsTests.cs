using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class DpoSequenceLogProbsTests
{
    // B = 2, T = 3, V = 2, the same logits and ids in both rows:
    //   position 0 logits [0, 0]       -> p = (½, ½),  predicts token 1 = id 0: log ½ = −0.693147
    //   position 1 logits [ln 3, 0]    -> p = (¾, ¼),  predicts token 2 = id 1: log ¼ = −1.386294
    //   position 2 logits [100, −100]  -> predicts nothing (there is no token 3) and must be ignored
    // Token 0 (id 1) has no prediction and never counts, even where its mask is 1.
    private static readonly float Ln3 = MathF.Log(3f);
    private static Tensor Logits() => Tensor.FromArray([0f, 0f, Ln3, 0f, 100f, -100f, 0f, 0f, Ln3, 0f, 100f, -100f], 2, 3, 2);
    private static Tensor Ids() => Tensor.FromArray([1, 0, 1, 1, 0, 1], 2, 3);

    [Fact]
    public void SumCountsMaskedTokensPredictedByThePreviousPosition()
    {
        // row 0 mask [1, 1, 1]: tokens 1 and 2 count: log ½ + log ¼ = log ⅛ = −2.079442
        // row 1 mask [0, 0, 1]: token 2 only: log ¼ = −1.386294
        var mask = Tensor.FromArray([1f, 1f, 1f, 0f, 0f, 1f], 2, 3);
        var sum = SequenceLogProbs.Sum(Logits(), Ids(), mask).ToArray();
        Assert.Equal(-2.079442, sum[0], 5);
        Assert.Equal(-1.386294, sum[1], 5);
    }

    [Fact]
    public void MeanDividesByTheNumberOfCountedTokens()
    {
        // row 0: −2.079442 / 2 tokens = −1.039721; row 1: −1.386294 / 1 token; an int32 mask works the same
        var mask = Tensor.FromArray([1, 1, 1, 0, 0, 1], 2, 3);
        var mean = SequenceLogProbs.Mean(Logits(), Ids(), mask).ToArray();
        Assert.Equal(-1.039721, mean[0], 5);
        Assert.Equal(-1.386294, mean[1], 5);
    }

    [Fact]
    public void EmptyResponseGivesZero()
    {
        var mask = Tensor.FromArray([1f, 0f, 0f, 0f, 0f, 0f], 2, 3);
        Assert.Equal([0f, 0f], SequenceLogProbs.Mean(Logits(), Ids(), mask).ToArray());
        Assert.Equal([0f, 0f], SequenceLogProbs.Sum(Logits(), Ids(), mask).ToArray());
    }

    [Fact]
    public void ShapesAreChecked()
    {
        Assert.Throws<ShapeMismatchException>(() => SequenceLogProbs.Sum(Logits(), Ids(), Tensor.Ones(2, 2)));
        Assert.Throws<ShapeMismatchException>(() => SequenceLogProbs.Sum(Tensor.Zeros(2, 1, 2), Tensor.FromArray([0, 0], 2, 1), Tensor.Ones(2, 1)));
    }
}
