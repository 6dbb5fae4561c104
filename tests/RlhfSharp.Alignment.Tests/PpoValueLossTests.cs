using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class PpoValueLossTests
{
    // ε_v = 0.2, v_clipped = V_old + clip(V − V_old, −0.2, 0.2), loss_t = ½·max((V − R)², (v_clipped − R)²):
    //   a) V = 1.1, V_old = 1, R = 2: inside, v_c = 1.1: (−0.9)² = 0.81 both → 0.405, grad (V − R) = −0.9
    //   b) V = 1.5, V_old = 1, R = 2: v_c = 1.2: 0.25 vs 0.64 → clipped larger → 0.32, grad 0
    //   c) V = 1.5, V_old = 1, R = 0: v_c = 1.2: 2.25 vs 1.44 → unclipped larger → 1.125, grad 1.5
    // token mean = (0.405 + 0.32 + 1.125)/3 = 0.616667; clip fraction 1/3; gradients /3: −0.3, 0, 0.5.
    [Fact]
    public void ClippedValueLossMatchesHandWorkedNumbers()
    {
        var v = Tensor.FromArray([1.1f, 1.5f, 1.5f, float.NaN], 1, 4);
        v.RequiresGrad = true;
        ValueLossOutput result = ValueLoss.Compute(
            v,
            Tensor.FromArray([1f, 1f, 1f, 9f], 1, 4),
            Tensor.FromArray(new double[] { 2, 2, 0, -9 }, 1, 4), // returns are float64, as Gae gives them
            Tensor.FromArray([1f, 1f, 1f, 0f], 1, 4),
            clipRange: 0.2);
        Assert.Equal(0.616667, result.Loss.Item(), 5);
        Assert.Equal(1.0 / 3, result.ClipFraction, 12);
        result.Loss.Backward();
        var g = v.Grad!.ToArray();
        Assert.Equal(-0.3, g[0], 5);
        Assert.Equal(0, g[1]);
        Assert.Equal(0.5, g[2], 5);
        Assert.Equal(0, g[3]);
    }

    [Fact]
    public void ExplainedVarianceMatchesHandWorkedNumbers()
    {
        // Real tokens: V = (1, 2, 3), R = (1.5, 2, 2).
        //   Var[R]: mean 11/6; deviations −1/3, 1/6, 1/6 → (1/9 + 1/36 + 1/36)/3 = (1/6)/3 = 1/18
        //   R − V = (0.5, 0, −1): mean −1/6; deviations 2/3, 1/6, −5/6 → (4/9 + 1/36 + 25/36)/3 = (7/6)/3 = 7/18
        //   EV = 1 − (7/18)/(1/18) = 1 − 7 = −6
        var v = Tensor.FromArray(new double[,] { { 1, 2, 40 }, { 3, 50, 60 } });
        var r = Tensor.FromArray(new double[,] { { 1.5, 2, -4 }, { 2, 0, 0 } });
        var mask = Tensor.FromArray(new double[,] { { 1, 1, 0 }, { 1, 0, 0 } });
        Assert.Equal(-6, ExplainedVariance.Compute(v, r, mask), 9);
        Assert.Equal(1, ExplainedVariance.Compute(r, r, mask), 12);
        Assert.Equal(-6, ExplainedVariance.Compute(v.Float(), r.Float(), mask.Float()), 4);
        Assert.True(double.IsNaN(ExplainedVariance.Compute(v, Tensor.FromArray(new double[,] { { 1, 1, 0 }, { 1, 0, 0 } }), mask)));
    }
}
