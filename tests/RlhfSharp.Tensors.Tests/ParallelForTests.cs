using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

public class ParallelForTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 4)]
    [InlineData(7, 2)]
    [InlineData(100, 3)]
    public void ChunksAreContiguousAndCoverTheRange(int count, int threads)
    {
        var seen = new int[count];
        var ranges = new List<(int, int)>();
        ParallelFor.RunChunks(count, threads, (s, e) =>
        {
            lock (ranges)
                ranges.Add((s, e));
            for (int i = s; i < e; i++)
                Interlocked.Increment(ref seen[i]);
        });
        Assert.All(seen, v => Assert.Equal(1, v));
        Assert.Equal(count == 0 ? 0 : Math.Min(threads, count), ranges.Count);
        ranges.Sort();
        for (int c = 0; c < ranges.Count; c++)
            Assert.Equal((ParallelFor.ChunkStart(count, ranges.Count, c), ParallelFor.ChunkStart(count, ranges.Count, c + 1)), ranges[c]);
    }

    [Fact]
    public void BackToBackLoopsEachRunEveryChunkOnceUnderTheirOwnBody()
    {
        // The workers reuse one loop object: a worker arriving late must neither run a chunk of
        // the next loop with the previous body nor run a chunk twice.
        const int loops = 20_000, count = 5;
        var owner = new int[loops * count];
        for (int loop = 0; loop < loops; loop++)
        {
            int id = loop;
            ParallelFor.RunChunks(count, 3, (s, e) =>
            {
                for (int i = s; i < e; i++)
                    Interlocked.Add(ref owner[(id * count) + i], id + 1);
            });
        }
        for (int loop = 0; loop < loops; loop++)
        {
            for (int i = 0; i < count; i++)
                Assert.Equal(loop + 1, owner[(loop * count) + i]);
        }
    }

    [Fact]
    public void AThrowingChunkFailsItsLoopAndTheNextLoopRunsCleanly()
    {
        var e = Assert.Throws<AggregateException>(() => ParallelFor.RunChunks(4, 2, (s, _) =>
        {
            if (s == 0)
                throw new InvalidOperationException("chunk zero");
        }));
        Assert.Equal("chunk zero", e.InnerException!.Message);
        int ran = 0;
        ParallelFor.RunChunks(4, 2, (s, e2) => Interlocked.Add(ref ran, e2 - s));
        Assert.Equal(4, ran);
    }

    [Fact]
    public async Task NestedAndConcurrentCallsComplete()
    {
        long total = 0;
        var outer = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int rep = 0; rep < 50; rep++)
            {
                ParallelFor.RunChunks(6, 2, (s, e) =>
                {
                    for (int i = s; i < e; i++)
                        ParallelFor.Run(10, _ => Interlocked.Increment(ref total));
                });
            }
        })).ToArray();
        await Task.WhenAll(outer).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(4L * 50 * 6 * 10, total);
    }

    [Fact]
    public void BodyExceptionsReachTheCaller()
    {
        var e = Assert.Throws<AggregateException>(() =>
            ParallelFor.RunChunks(4, 2, (s, _) =>
            {
                if (s > 0)
                    throw new InvalidOperationException("boom");
            }));
        Assert.IsType<InvalidOperationException>(e.InnerException);
    }
}
