namespace RlhfSharp.Tensors.Tests;

/// <summary>Shared row-major strides: always the right strides for the shape asked, whatever the cache held before.</summary>
public class StridesCacheTests
{
    [Fact]
    public void GivesRowMajorStridesForEveryShapeEvenPastItsSlots()
    {
        var rng = new Random(5);
        var shapes = new List<int[]> { Array.Empty<int>(), new[] { 0 }, new[] { 3, 0, 2 }, new[] { 1, 1 }, new[] { 7 } };
        for (int i = 0; i < 100; i++)
        {
            var shape = new int[rng.Next(1, 5)];
            for (int d = 0; d < shape.Length; d++)
                shape[d] = rng.Next(1, 6);
            shapes.Add(shape);
        }
        // Twice over, so shapes come back after the cache has moved on.
        foreach (var shape in shapes.Concat(shapes))
            Assert.Equal(ShapeUtil.ContiguousStrides(shape), StridesCache.For(shape));
    }

    [Fact]
    public void ShapesThatDifferOnlyInTheFirstSizeShareStrides()
    {
        var a = StridesCache.For([2, 3, 4]);
        var b = StridesCache.For([9, 3, 4]);
        Assert.Same(a, b);
        Assert.Equal([12, 4, 1], b);
        Assert.NotSame(a, StridesCache.For([2, 4, 3]));
    }

    [Fact]
    public void TensorsSharingStridesKeepTheirOwnViews()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var y = Tensor.Zeros(2, 3, 4);
        var t = x.Transpose(1, 2);
        Assert.Equal([12, 1, 4], t.Strides);
        Assert.Equal([12, 4, 1], y.Strides);
        Assert.Equal(x.ToArray(), x.Reshape(6, 4).ToArray());
        Assert.Equal(5f, t[0, 1, 1]);
    }
}
