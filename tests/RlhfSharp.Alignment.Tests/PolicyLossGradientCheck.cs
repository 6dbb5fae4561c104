using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Tests;

/// <summary>
/// Backward of a policy loss on float32 log-probs against central differences
/// (L(x + h) − L(x − h))/2h of the same loss evaluated in float64, h = 1e-6, at the float32 inputs
/// widened (as KlEstimatorTests). The float64 difference is accurate to ~1e-9 where the loss is
/// smooth (the points are chosen away from the clip kinks); the float32 gradient rounds ratios of
/// order 1 to 2⁻²⁴ relative, ≲ 1e-6 absolute here. atol 1e-5 + rtol 1e-5 sits above both and far
/// below a real mistake (a sign, a missing 1/|y|, a gradient through the wrong branch: ≥ 0.01).
/// </summary>
internal static class PolicyLossGradientCheck
{
    public static void Check(PolicyLossFunction loss, float[] logp, float[] oldLogp, float[] advantages, float[] mask, int rows, int cols, PolicyLossSettings settings)
    {
        var lp = Tensor.FromArray((float[])logp.Clone(), rows, cols);
        lp.RequiresGrad = true;
        var old = Tensor.FromArray(oldLogp, rows, cols);
        var adv = Tensor.FromArray(advantages, rows, cols);
        var m = Tensor.FromArray(mask, rows, cols);
        loss(lp, old, adv, m, settings).Loss.Backward();
        var analytic = lp.Grad!.ToArray();
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-2); // the check is not vacuous

        const double H = 1e-6;
        var x0 = Array.ConvertAll(logp, v => (double)v);
        double F(double[] x) => loss(Tensor.FromArray(x, rows, cols), Tensor.FromArray(Array.ConvertAll(oldLogp, v => (double)v), rows, cols), adv, m, settings).Loss.ItemDouble();
        for (int i = 0; i < x0.Length; i++)
        {
            if (mask[i] == 0)
            {
                Assert.Equal(0f, analytic[i]); // padding: no gradient
                continue;
            }
            var plus = (double[])x0.Clone();
            var minus = (double[])x0.Clone();
            plus[i] += H;
            minus[i] -= H;
            double numeric = (F(plus) - F(minus)) / (2 * H);
            Assert.True(Math.Abs(analytic[i] - numeric) <= 1e-5 + (1e-5 * Math.Abs(numeric)), $"∂L/∂logp[{i}]: {analytic[i]} vs finite difference {numeric}");
        }
    }
}
