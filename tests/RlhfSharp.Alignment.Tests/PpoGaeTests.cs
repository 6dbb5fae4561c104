using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class PpoGaeTests
{
    // γ = 0.9, λ = 0.8, γλ = 0.72; the value after the last real token is 0.
    // Row 0 (length 3): r = (0, 0, 1), V = (0.5, 0.4, 0.3)
    //   t=2: δ = 1 + 0.9·0 − 0.3     = 0.7    A = 0.7                       R = 0.7 + 0.3   = 1.0
    //   t=1: δ = 0 + 0.9·0.3 − 0.4   = −0.13  A = −0.13 + 0.72·0.7 = 0.374   R = 0.374 + 0.4 = 0.774
    //   t=0: δ = 0 + 0.9·0.4 − 0.5   = −0.14  A = −0.14 + 0.72·0.374 = 0.12928  R = 0.62928
    // Row 1 (length 2; position 2 is padding holding junk 9 and 7):
    //   t=1: δ = −0.5 + 0 − 0.6      = −1.1   A = −1.1                      R = −1.1 + 0.6 = −0.5
    //   t=0: δ = 0.2 + 0.9·0.6 − 0.1 = 0.64   A = 0.64 + 0.72·(−1.1) = −0.152  R = −0.052
    //   t=2: padding → A = 0, R = 0
    private static readonly double[,] Rewards = { { 0, 0, 1 }, { 0.2, -0.5, 9 } };
    private static readonly double[,] Values = { { 0.5, 0.4, 0.3 }, { 0.1, 0.6, 7 } };
    private static readonly double[,] Mask = { { 1, 1, 1 }, { 1, 1, 0 } };
    private static readonly double[,] WantAdvantages = { { 0.12928, 0.374, 0.7 }, { -0.152, -1.1, 0 } };
    private static readonly double[,] WantReturns = { { 0.62928, 0.774, 1.0 }, { -0.052, -0.5, 0 } };

    private static Tensor T(double[,] grid) => Tensor.FromArray(grid);

    [Fact]
    public void MaskedExampleMatchesHandWorkedNumbers()
    {
        var (a, r) = Gae.Compute(T(Rewards), T(Values), T(Mask), gamma: 0.9, lambda: 0.8);
        Assert.Equal(DType.Float64, a.Dtype);
        Assert.Equal(DType.Float64, r.Dtype);
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        Assert.Equal(new[] { 2, 3 }, r.Shape);
        var av = a.ToDoubleArray();
        var rv = r.ToDoubleArray();
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 3; t++)
            {
                Assert.Equal(WantAdvantages[b, t], av[(b * 3) + t], 12);
                Assert.Equal(WantReturns[b, t], rv[(b * 3) + t], 12);
            }
    }

    [Fact]
    public void Float32InputsAgreeToFloat32Precision()
    {
        // The same grids stored as float32 (0.1, 0.2, … rounded): the float64 result agrees to 5 digits.
        var (a, r) = Gae.Compute(T(Rewards).Float(), T(Values).Float(), T(Mask).Float(), 0.9, 0.8);
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        var av = a.ToDoubleArray();
        var rv = r.ToDoubleArray();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(WantAdvantages[i / 3, i % 3], av[i], 5);
            Assert.Equal(WantReturns[i / 3, i % 3], rv[i], 5);
        }
    }

    [Fact]
    public void LambdaOneGivesDiscountedRewardToGoMinusValue()
    {
        // λ = 1, γ = 1: A_t = Σ_{k≥t} r_k − V_t. Row 0: A_0 = 1 − 0.5 = 0.5; row 1: A_0 = −0.3 − 0.1 = −0.4.
        var (a, r) = Gae.Compute(T(Rewards), T(Values), T(Mask), 1, 1);
        var av = a.ToDoubleArray();
        Assert.Equal(0.5, av[0], 12);
        Assert.Equal(-0.4, av[3], 12);
        Assert.Equal(-0.3, r.ToDoubleArray()[3], 12);
    }

    [Fact]
    public void MalformedMasksAreRejected()
    {
        var notBinary = Assert.Throws<ArgumentException>(() => Gae.Compute(T(Rewards), T(Values), T(new double[,] { { 1, 1, 1 }, { 1, 0.5, 0 } }), 0.9, 0.8));
        Assert.Contains("only 0 (padding) and 1", notBinary.Message);
        var notRightPadded = Assert.Throws<ArgumentException>(() => Gae.Compute(T(Rewards), T(Values), T(new double[,] { { 1, 1, 1 }, { 1, 0, 1 } }), 0.9, 0.8));
        Assert.Contains("right-padded", notRightPadded.Message);
        Assert.Equal(new[] { 3, 2 }, ResponseMask.Lengths(T(Mask), "test"));
        Assert.Throws<ArgumentException>(() => ResponseMask.Lengths(T(new double[,] { { 0, 1, 1 } }), "test"));
        Assert.Throws<ArgumentException>(() => ResponseMask.Lengths(T(new double[,] { { 1, 2, 0 } }), "test"));
    }
}
