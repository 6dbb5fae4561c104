using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Finite-difference gradient check. The checked scalar is L = Σ f(x) ⊙ R with a fixed random R,
/// so every output element contributes with a distinct weight. Numeric derivatives use central
/// differences (L(x+h) − L(x−h)) / 2h with L accumulated in double.
///
/// Tolerance: the forward runs in fp32, so each L evaluation carries a rounding error of about
/// ε·Σ|f·R| with ε = 6e-8; divided by 2h = 2e-2 that is ~3e-6·Σ|f·R| — about 1e-4 for the
/// tensors used in the tests (tens of elements of order one). Truncation error is h²/6·|L'''|,
/// about 2e-5 for smooth ops at h = 1e-2. We accept |analytic − numeric| ≤ atol + rtol·|numeric|
/// with atol = 5e-3 and rtol = 2e-2: two orders of magnitude above that noise, yet far below the
/// size of any real mistake (a wrong sign, a missing factor of 2, a dropped broadcast term).
/// </summary>
public static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, float h = 1e-2f, double atol = 5e-3, double rtol = 2e-2, int maxPerInput = 48, ulong seed = 7)
    {
        foreach (var x in inputs)
        {
            x.RequiresGrad = true;
            x.Grad = null;
        }
        var output = f(inputs);
        var rng = new Generator(seed);
        var weights = rng.Uniform(output.Shape, -1f, 1f);
        output.Mul(weights).Sum().Backward();

        for (int t = 0; t < inputs.Length; t++)
        {
            var x = inputs[t];
            Assert.True(x.Grad is not null, $"input {t} got no gradient");
            var analytic = x.Grad!.ToArray();
            var data = x.F!;
            int count = x.Numel;
            var picks = Enumerable.Range(0, count).ToList();
            if (count > maxPerInput)
            {
                rng.Shuffle(picks);
                picks = picks.Take(maxPerInput).ToList();
            }
            foreach (var i in picks)
            {
                int pos = x.Offset + i; // inputs are contiguous leaves
                float orig = data[pos];
                data[pos] = orig + h;
                double plus = Loss(f, inputs, weights);
                data[pos] = orig - h;
                double minus = Loss(f, inputs, weights);
                data[pos] = orig;
                double numeric = (plus - minus) / (2.0 * h);
                double diff = Math.Abs(analytic[i] - numeric);
                Assert.True(diff <= atol + (rtol * Math.Abs(numeric)),
                    $"input {t} element {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6} (diff {diff:G3})");
            }
        }
    }

    private static double Loss(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor weights)
    {
        using var _ = GradMode.NoGrad();
        var y = f(inputs).ToArray();
        var w = weights.ToArray();
        double s = 0;
        for (int i = 0; i < y.Length; i++)
            s += (double)y[i] * w[i];
        return s;
    }

    /// <summary>Random N(0,1) tensor from a seeded generator.</summary>
    public static Tensor Randn(Generator g, params int[] shape) => g.Normal(shape);
}
