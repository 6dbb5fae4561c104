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
    public void SoftLabelsGiveHalfOfEachSideAndReduceToThePlainLossAtOne()
    {
        // A tie (p = ½) at Δ = 1: ½·softplus(−1) + ½·softplus(1) = ½·(0.313262 + 1.313262) = 0.813262;
        // at Δ = 0: log 2 = 0.693147, its smallest value. A preference (p = 1) at Δ = 1: 0.313262.
        // Mean of the three: (0.813262 + 0.693147 + 0.313262) / 3 = 0.606557.
        Assert.Equal(0.606557, BradleyTerry.SoftLoss([1.0, 0.3, 2.0], [0.0, 0.3, 1.0], [0.5, 0.5, 1.0]), 6);
        var t = BradleyTerry.SoftLoss(Tensor.FromArray([1f, 0.3f, 2f]), Tensor.FromArray([0f, 0.3f, 1f]), Tensor.FromArray([0.5f, 0.5f, 1f]));
        Assert.Equal(0.606557, t.Item(), 5);
        // p = 1 everywhere is the plain loss, margin included: (3 − 1 − 1) = 1 → 0.313262.
        Assert.Equal(BradleyTerry.Loss([2.0, 0, -1], [0.0, 0, 1]), BradleyTerry.SoftLoss([2.0, 0, -1], [0.0, 0, 1], [1.0, 1, 1]), 12);
        Assert.Equal(0.313262, BradleyTerry.SoftLoss(Tensor.FromArray([3f]), Tensor.FromArray([1f]), Tensor.FromArray([1f]), Tensor.FromArray([1f])).Item(), 5);
        Assert.Throws<ArgumentException>(() => BradleyTerry.SoftLoss([1.0], [0.0], [0.5, 0.5]));
    }

    [Fact]
    public void ATiePullsTheTwoRewardsTogether()
    {
        // d/dΔ [−½ log σ(Δ) − ½ log σ(−Δ)] = σ(Δ) − ½; at Δ = 1: 0.731059 − 0.5 = 0.231059, so gradient
        // descent lowers the higher reward and raises the lower one; at Δ = −1 the signs swap.
        var c = Tensor.FromArray([1.5f, -0.5f]);
        var r = Tensor.FromArray([0.5f, 0.5f]);
        c.RequiresGrad = true;
        r.RequiresGrad = true;
        BradleyTerry.SoftLoss(c, r, Tensor.FromArray([0.5f, 0.5f])).Backward();
        var gc = c.Grad!.ToArray();
        var gr = r.Grad!.ToArray();
        Assert.Equal(0.231059 / 2, gc[0], 5); // mean over two pairs
        Assert.Equal(-0.231059 / 2, gr[0], 5);
        Assert.Equal(-0.231059 / 2, gc[1], 5);
        Assert.Equal(0.231059 / 2, gr[1], 5);
    }

    [Fact]
    public void SoftLossGradientMatchesFiniteDifferences()
    {
        float[] c0 = [0.7f, -1.2f, 0.1f], r0 = [0.2f, 0.4f, 0.1f], p = [1f, 0.5f, 0.75f];
        var c = Tensor.FromArray((float[])c0.Clone());
        c.RequiresGrad = true;
        BradleyTerry.SoftLoss(c, Tensor.FromArray(r0), Tensor.FromArray(p)).Backward();
        var analytic = c.Grad!.ToArray();
        double[] pd = [.. p.Select(v => (double)v)], rd = [.. r0.Select(v => (double)v)];
        const double h = 1e-5;
        for (int i = 0; i < c0.Length; i++)
        {
            double[] up = [.. c0.Select(v => (double)v)], down = [.. c0.Select(v => (double)v)];
            up[i] += h;
            down[i] -= h;
            double numeric = (BradleyTerry.SoftLoss(up, rd, pd) - BradleyTerry.SoftLoss(down, rd, pd)) / (2 * h);
            Assert.Equal(numeric, analytic[i], 4);
        }
    }

    [Fact]
    public void AccuracyCountsTiesHalf()
    {
        Assert.Equal(0.5, BradleyTerry.Accuracy([1.0, 0, 2], [0.0, 0, 3]), 12);
    }
}
