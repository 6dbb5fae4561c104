using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Loops over struct bodies: every index once, and a loop nested in a body of its own type leaves the outer body intact.</summary>
[Collection(GlobalEngineStateCollection.Name)]
public class StructLoopTests
{
    private readonly struct Fill(int[] target, int value) : IChunkBody
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
                Interlocked.Add(ref target[i], value); // outer chunks on two threads fill the same inner rows
        }
    }

    // The outer loop (depth 0) starts an inner loop of the same body type over other rows before
    // filling each of its own rows; were the outer body overwritten, it would fill the inner rows.
    private readonly struct Rows(int[][] rows, int[][] inner, int threads, int depth) : IChunkBody
    {
        public void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                if (depth == 0)
                    StructLoop<Rows>.RunChunks(inner.Length, threads, new Rows(inner, inner, threads, 1));
                StructLoop<Fill>.RunChunks(rows[r].Length, threads, new Fill(rows[r], depth == 0 ? r + 1 : 100));
            }
        }
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(17, 1)]
    [InlineData(129, 2)]
    [InlineData(129, 3)]
    public void EveryIndexRunsOnce(int count, int threads)
    {
        var target = new int[count];
        StructLoop<Fill>.RunChunks(count, threads, new Fill(target, 1));
        Assert.All(target, v => Assert.Equal(1, v));
        // The box is reused: a second loop with another body sees its own fields.
        StructLoop<Fill>.RunChunks(count, threads, new Fill(target, 10));
        Assert.All(target, v => Assert.Equal(11, v));
    }

    [Fact]
    public void ANestedLoopOfTheSameBodyTypeDoesNotOverwriteTheOuterOne()
    {
        var rows = Enumerable.Range(0, 5).Select(_ => new int[33]).ToArray();
        var inner = Enumerable.Range(0, 3).Select(_ => new int[7]).ToArray();
        StructLoop<Rows>.RunChunks(rows.Length, 2, new Rows(rows, inner, 2, 0));
        for (int r = 0; r < rows.Length; r++)
            Assert.All(rows[r], v => Assert.Equal(r + 1, v));
        // Each outer row ran the inner loop once: 5 times 100 into every inner element.
        foreach (var row in inner)
            Assert.All(row, v => Assert.Equal(500, v));
    }

    [Fact]
    public void AnExceptionInABodyReachesTheCallerAndTheNextLoopStillRuns()
    {
        Assert.ThrowsAny<Exception>(() => StructLoop<Fill>.RunChunks(4, 2, new Fill(null!, 1)));
        var target = new int[4];
        StructLoop<Fill>.RunChunks(4, 2, new Fill(target, 2));
        Assert.All(target, v => Assert.Equal(2, v));
    }
}
