namespace RlhfSharp.Tensors.Tests;

/// <summary>Helpers shared by the functional-op tests: seeded inputs and element-wise comparisons.</summary>
internal static class FunctionalTestUtil
{
    public static Tensor Randn(ulong seed, params int[] shape) => new Generator(seed).Normal(shape);

    public static Tensor RandIds(ulong seed, int v, params int[] shape)
    {
        var g = new Generator(seed);
        var ids = new int[ShapeUtil.Numel(shape)];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = g.NextInt(v);
        return Tensor.FromArray(ids, shape);
    }

    public static void AssertClose(double[] expected, float[] actual, double tol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]:G9}, got {actual[i]:G9} (diff {diff:G3})");
        }
    }

    public static void AssertAllFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            Assert.True(float.IsFinite(values[i]), $"element {i} is {values[i]}");
    }

    /// <summary>log Σ exp over one row, in double.</summary>
    public static double LogSumExp(float[] x, int start, int n)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < n; j++)
            max = Math.Max(max, x[start + j]);
        double s = 0;
        for (int j = 0; j < n; j++)
            s += Math.Exp(x[start + j] - max);
        return max + Math.Log(s);
    }
}
