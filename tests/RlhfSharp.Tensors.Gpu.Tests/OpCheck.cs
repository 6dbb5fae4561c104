using RlhfSharp.Tensors;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// Runs an op on the CPU engine and on the device with the same inputs and the same upstream
/// gradient, and compares the outputs and every input's gradient.
///
/// Tolerance: |device − cpu| ≤ atol + rtol·|cpu| with rtol 1e-5 and atol 1e-5 by default. The two
/// engines compute the same float32 formulas but not in the same order (the CPU engine sums in
/// SIMD lanes and blocks, the device sequentially per thread) and with different exp/log/tanh
/// implementations (vectorised polynomials vs MathF / the GPU's intrinsics), each within a few ulp;
/// a few ulp of each input summed over a short dot product stays well inside 1e-5 relative for the
/// sizes used here. Ops that sum over many terms pass a larger tolerance, stated where they do.
/// </summary>
internal static class OpCheck
{
    public static void Check(Device device, Func<Tensor[], Tensor> op, Tensor[] inputs, float rtol = 1e-5f, float atol = 1e-5f, bool grad = true)
    {
        var host = inputs.Select(Leaf).ToArray();
        var hy = op(host);
        var dev = inputs.Select(t => Leaf(t.To(device))).ToArray();
        var dy = op(dev);
        Assert.True(dy.IsOnDevice, "the op's result left the device");
        Assert.Equal(hy.Shape, dy.Shape);
        AssertClose(hy, dy, rtol, atol, "output");
        if (!grad || !hy.RequiresGrad)
            return;

        var upstream = Random(hy.Shape, seed: 99);
        hy.Mul(upstream).Sum().Backward();
        dy.Mul(upstream.To(device)).Sum().Backward();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (host[i].Grad is null)
                continue;
            Assert.NotNull(dev[i].Grad);
            Assert.True(dev[i].Grad!.IsOnDevice, $"the gradient of input {i} left the device");
            AssertClose(host[i].Grad!, dev[i].Grad!, rtol, atol, $"gradient of input {i}");
        }
    }

    private static Tensor Leaf(Tensor t)
    {
        var c = t.Detach();
        if (c.Dtype == DType.Float32)
            c.RequiresGrad = true;
        return c;
    }

    public static void AssertClose(Tensor expected, Tensor actual, float rtol, float atol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
        {
            if (float.IsNaN(e[i]) || float.IsInfinity(e[i]))
            {
                Assert.True(e[i].Equals(a[i]), $"{what}[{i}]: expected {e[i]}, got {a[i]}");
                continue;
            }
            float tol = atol + (rtol * MathF.Abs(e[i]));
            Assert.True(MathF.Abs(e[i] - a[i]) <= tol, $"{what}[{i}]: expected {e[i]:G9}, got {a[i]:G9} (tolerance {tol:G3})");
        }
    }

    /// <summary>Uniform values in [lo, hi), reproducible.</summary>
    public static Tensor Random(int[] shape, int seed, float lo = -2f, float hi = 2f)
    {
        var rng = new Random(seed);
        var v = new float[ShapeUtil.Numel(shape)];
        for (int i = 0; i < v.Length; i++)
            v[i] = lo + ((hi - lo) * (float)rng.NextDouble());
        return Tensor.FromArray(v, shape);
    }
}
