namespace RlhfSharp.Tensors.Tests;

internal static class OptimTestUtil
{
    /// <summary>A named leaf parameter with the given values.</summary>
    public static Tensor Param(string name, params float[] values) => TinyModels.Param(Tensor.FromArray(values), name);

    /// <summary>Sets the gradient directly, as Backward would leave it.</summary>
    public static void SetGrad(Tensor p, params float[] values) => p.Grad = Tensor.FromArray(values, p.Shape);

    public static void AssertClose(float[] expected, float[] actual, float tol = 1e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static void AssertSameBits(float[] expected, float[] actual, string what = "element")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what} {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
