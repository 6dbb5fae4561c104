using RlhfSharp.Tensors;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// The scan for NaN and infinity that guards training and model files: the vector path and its
/// scalar tail find the first bad element wherever it sits, for every element type that holds weights.
/// </summary>
public sealed class CoreFiniteScanTests
{
    public static TheoryData<int> Sizes => [1, 3, 7, 8, 17, 31, 129, 1000];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void FindsTheFirstNaNOrInfinityAtEveryPosition(int n)
    {
        var rng = new Random(n);
        var clean = new float[n];
        for (int i = 0; i < n; i++)
            clean[i] = (float)((rng.NextDouble() - 0.5) * 1e30); // large but finite
        clean[0] = float.MaxValue;
        Assert.Equal(-1, Tensor.FirstNonFinite(clean));
        Assert.Equal(-1, Tensor.FromArray(clean, n).FirstNonFinite());
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (int at = 0; at < n; at++)
            {
                var x = (float[])clean.Clone();
                x[at] = bad;
                if (at + 1 < n)
                    x[n - 1] = float.NaN; // a later one must not hide the first
                Assert.Equal(at, Tensor.FirstNonFinite(x));
                Assert.Equal(at, Tensor.FromArray(x, n).FirstNonFinite());
            }
        }
    }

    [Fact]
    public void OtherElementTypesAndViewsAreScannedToo()
    {
        var x = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, float.PositiveInfinity, 6 } });
        Assert.Equal(4, x.FirstNonFinite());
        Assert.Equal(4, x.ToBFloat16().FirstNonFinite());
        Assert.Equal(4, x.Double().FirstNonFinite());
        Assert.Equal(3, x.T.FirstNonFinite()); // row-major order of the view: 1 4 2 inf 3 6
        Assert.Equal(-1, Tensor.FromArray(new float[,] { { 1, 2 } }).ToBFloat16().FirstNonFinite());
        Assert.Equal(-1, Tensor.FromArray(new[] { 1, 2, 3 }, 3).FirstNonFinite()); // int32 is always finite
    }
}
