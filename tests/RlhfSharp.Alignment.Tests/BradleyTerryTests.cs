using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

public class BradleyTerryTests
{
    [Fact]
    public void LossMatchesHandWorkedNumbers()
    {
        // Pairs (r_c, r_r) = (2, 0), (0, 0), (−1, 1):
        //   −log σ(2)  = log(1 + e^−2) = 0.126928
        //   −log σ(0)  = log 2         = 0.693147
        //   −log σ(−2) = log(1 + e^2)  = 2.126928
        // mean = 2.947003 / 3 = 0.982334
        double want = (Math.Log(1 + Math.Exp(-2)) + Math.Log(2) + Math.Log(1 + Math.Exp(2))) / 3;
        Assert.Equal(0.982334, want, 6);
        Assert.Equal(want, BradleyTerry.Loss([2.0, 0, -1], [0.0, 0, 1]), 12);
        var t = BradleyTerry.Loss(Tensor.FromArray([2f, 0f, -1f]), Tensor.FromArray([0f, 0f, 1f]));
        Assert.Equal(want, t.Item(), 5);
    }

    [Fact]
    public void MarginShiftsTheDifference()
    {
        // (r_c − r_r − m) = 3 − 1 − 1 = 1: −log σ(1) = log(1 + e^−1) = 0.313262
        Assert.Equal(0.313262, BradleyTerry.Loss([3.0], [1.0], [1.0]), 6);
        Assert.Equal(0.313262, BradleyTerry.Loss(Tensor.FromArray([3f]), Tensor.FromArray([1f]), Tensor.FromArray([1f])).Item(), 5);
    }

    [Fact]
    public void GradientIsSigmoidOfTheNegativeDifference()
    {
        // d/dr_c [−log σ(r_c − r_r)] = −σ(r_r − r_c); for r_c − r_r = 1: −σ(−1) = −0.268941 (one pair, mean = itself)
        var c = Tensor.FromArray([1.5f]);
        var r = Tensor.FromArray([0.5f]);
        c.RequiresGrad = true;
        r.RequiresGrad = true;
        BradleyTerry.Loss(c, r).Backward();
        Assert.Equal(-0.268941, c.Grad!.Item(), 5);
        Assert.Equal(0.268941, r.Grad!.Item(), 5);
    }

    [Fact]
    public void LargeDifferencesStayFinite()
    {
        Assert.Equal(0, BradleyTerry.Loss([1000.0], [0.0]), 12);
        Assert.Equal(1000, BradleyTerry.Loss([0.0], [1000.0]), 9);
        Assert.Equal(1000, BradleyTerry.Loss(Tensor.FromArray([0f]), Tensor.FromArray([1000f])).Item(), 3);
    }

    [Fact]
    public void AccuracyCountsTiesHalf()
    {
        Assert.Equal(0.5, BradleyTerry.Accuracy([1.0, 0, 2], [0.0, 0, 3]), 12);
    }
}
