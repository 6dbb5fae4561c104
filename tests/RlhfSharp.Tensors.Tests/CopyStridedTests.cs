namespace RlhfSharp.Tensors.Tests;

/// <summary>View-to-view copies (CopyInPlace, Narrow backward) against an element-by-element reference.</summary>
public class CopyStridedTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(17, 4, 33)]
    public void CopyIntoNarrowedViewFromTransposedSource(int a, int b, int c)
    {
        var dst = Tensor.Zeros(a, b + 2, c);
        var src = Tensor.Arange(a * b * c).Reshape(a, c, b).Transpose(1, 2); // [a, b, c], strided
        var view = dst.Narrow(1, 1, b);
        view.CopyInPlace(src);
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < b + 2; j++)
            {
                for (int k = 0; k < c; k++)
                {
                    float expected = j >= 1 && j <= b ? src[i, j - 1, k] : 0f;
                    Assert.Equal(expected, dst[i, j, k]);
                }
            }
        }
    }

    [Fact]
    public void BroadcastSourceAndOverlappingStorage()
    {
        var dst = Tensor.Zeros(3, 4);
        dst.CopyInPlace(Tensor.FromArray([1f, 2f, 3f, 4f]));
        Assert.Equal([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], dst.ToArray());
        // Source and destination share storage: the transpose is read in full before writing.
        var sq = Tensor.Arange(9).Reshape(3, 3);
        sq.CopyInPlace(sq.T);
        Assert.Equal([0f, 3f, 6f, 1f, 4f, 7f, 2f, 5f, 8f], sq.ToArray());
    }
}
