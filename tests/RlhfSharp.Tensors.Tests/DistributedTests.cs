using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// The engine side of data-parallel training without MPI: the hook that says a gradient is final,
/// gradient buckets (against a stand-in for a second rank that holds the same gradients), ZeRO-1's
/// partition and shard merge, an optimizer that updates only its shard, and keyed generator streams.
/// </summary>
public sealed class DistributedTests
{
    private static Tensor Leaf(float[] values) => Trainable(Tensor.FromArray(values, values.Length));

    private static Tensor Trainable(Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void TheGradReadyHookSeesTheFinishedGradientOnce()
    {
        // x feeds two branches: loss = Σ 2x + Σ x², so dL/dx = 2 + 2x, complete only after both.
        var x = Leaf([1f, -2f, 3f]);
        var seen = new List<float[]>();
        x.GradReadyHook = t => seen.Add(t.Grad!.ToArray());
        x.Mul(2f).Sum().Add(x.Mul(x).Sum()).Backward();
        var only = Assert.Single(seen);
        Assert.Equal([4f, -2f, 8f], only);
    }

    [Fact]
    public void LaterLayersAreReadyBeforeEarlierOnes()
    {
        // loss = Σ (x·w1)·w2: backward reaches w2 first.
        var w1 = Trainable(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2));
        var w2 = Trainable(Tensor.FromArray([0.5f, -1f], 2, 1));
        var order = new List<string>();
        w1.GradReadyHook = _ => order.Add("w1");
        w2.GradReadyHook = _ => order.Add("w2");
        var frozen = Tensor.FromArray([1f, 1f], 1, 2);
        frozen.GradReadyHook = _ => order.Add("frozen");
        frozen.Matmul(w1).Matmul(w2).Sum().Backward();
        Assert.Equal(["w2", "w1"], order);
    }

    [Fact]
    public void BucketsFollowTheBackwardOrderAndHoldAboutBucketBytes()
    {
        var ps = Enumerable.Range(0, 3).Select(_ => Leaf(new float[100])).ToArray();
        // 400 bytes each, 800 per bucket: [p2, p1], then [p0].
        using var sync = new GradientSync(ps, SingleProcessCommunicator.Instance, bucketBytes: 800);
        Assert.Equal(2, sync.BucketCount);
        Assert.Throws<InvalidOperationException>(sync.Finish);

        // With 25 MB buckets the first still holds at most 1 MiB, so sending starts early: [p2], [p1, p0].
        var big = Enumerable.Range(0, 3).Select(_ => Leaf(new float[1 << 18])).ToArray();
        using var early = new GradientSync(big, SingleProcessCommunicator.Instance);
        Assert.Equal(2, early.BucketCount);
    }

    [Fact]
    public void GradientsAreSummedInBucketsStartedDuringBackward()
    {
        // A stand-in for two ranks holding the same gradients: every sum doubles the values.
        var comm = new MirroredPair();
        var w1 = Trainable(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2));
        var w2 = Trainable(Tensor.FromArray([0.5f, -1f], 2, 1));
        var unused = Leaf([7f]);
        using var sync = new GradientSync([w1, w2, unused], comm, bucketBytes: 8);
        Assert.Equal(3, sync.BucketCount);
        sync.Begin();
        comm.InBackward = true;
        Tensor.FromArray([1f, 1f], 1, 2).Matmul(w1).Matmul(w2).Sum().Backward();
        comm.InBackward = false;
        sync.Finish();

        // The local gradients are dL/dw2 = [4, 6] and dL/dw1 = [[0.5, -1], [0.5, -1]]; the sum over two ranks doubles them.
        Assert.Equal([8f, 12f], w2.Grad!.ToArray());
        Assert.Equal([1f, -2f, 1f, -2f], w1.Grad!.ToArray());
        Assert.Null(unused.Grad); // no rank had a gradient for it
        // Buckets go out in one order on every rank: the unused parameter's (first in backward order) waits for Finish, so all wait.
        Assert.Equal(3, comm.Started.Count);
        Assert.Equal(0, sync.LastStats.StartedDuringBackward);

        // Without the unused parameter in front, both buckets leave while backward still runs.
        var comm2 = new MirroredPair();
        w1.Grad = null;
        w2.Grad = null;
        using var sync2 = new GradientSync([unused, w1, w2], comm2, bucketBytes: 8);
        sync2.Begin();
        comm2.InBackward = true;
        Tensor.FromArray([1f, 1f], 1, 2).Matmul(w1).Matmul(w2).Sum().Backward();
        comm2.InBackward = false;
        sync2.Finish();
        Assert.Equal([true, true, false], comm2.Started.Select(s => s.DuringBackward));
        Assert.Equal(2, sync2.LastStats.StartedDuringBackward);
        Assert.Equal([8f, 12f], w2.Grad!.ToArray());
    }

    [Theory]
    [InlineData(new long[] { 10, 10, 10, 10 }, 2, new[] { 0, 0, 1, 1 })]
    // The big parameter's midpoint (50 of 102) lies in rank 0's half; the two small ones (100.5, 101.5) in rank 1's.
    [InlineData(new long[] { 100, 1, 1 }, 2, new[] { 0, 1, 1 })]
    [InlineData(new long[] { 6, 6, 6 }, 3, new[] { 0, 1, 2 })]
    [InlineData(new long[] { 5 }, 3, new[] { 1 })]
    public void ZeroOnePartitionsTheParametersByTheirMidpoints(long[] sizes, int ranks, int[] owners) =>
        Assert.Equal(owners, ZeroRedundancy.Partition(sizes, ranks));

    [Fact]
    public void AShardedOptimizerUpdatesAndKeepsStateOnlyForItsParameters()
    {
        var a = Leaf([1f, 2f, 3f, 4f]);
        var b = Leaf([5f, 6f]);
        var opt = new AdamW([a, b], lr: 0.1f, weightDecay: 0f);
        opt.ShardState(i => i == 0);
        a.Grad = Tensor.FromArray([1f, 1f, 1f, 1f], 4);
        b.Grad = Tensor.FromArray([1f, 1f], 2);
        opt.Step();
        // AdamW's first step moves each weight by lr against the gradient's sign.
        Assert.Equal([0.9f, 1.9f, 2.9f, 3.9f], a.ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal([5f, 6f], b.ToArray());
        Assert.Equal(2 * 4 * 4, opt.StateBytes()); // two moments of a's four values
        Assert.True(opt.Owns(0) && !opt.Owns(1));
    }

    [Fact]
    public void ShardsMergeIntoTheWholeStateWhateverTheirNumber()
    {
        var a = Leaf([1f, 2f]);
        var b = Leaf([3f]);
        OptimizerState Shard(bool ownsA)
        {
            var pa = Leaf([1f, 2f]);
            var pb = Leaf([3f]);
            var opt = new AdamW([pa, pb], lr: 0.1f);
            opt.ShardState(i => (i == 0) == ownsA);
            pa.Grad = Tensor.FromArray([1f, -1f], 2);
            pb.Grad = Tensor.FromArray([2f], 1);
            opt.Step();
            return opt.StateDict();
        }
        var merged = ZeroRedundancy.Merge([Shard(ownsA: true), Shard(ownsA: false)]);
        Assert.All(merged.Params, p => Assert.Equal(2, p.Buffers.Count));
        Assert.Equal(1, merged.Params[0].Step);
        Assert.Equal(1, merged.Params[1].Step);
        var whole = new AdamW([a, b], lr: 0.1f);
        whole.LoadStateDict(merged);
        Assert.Equal(2 * 4 * 3, whole.StateBytes());

        var later = Shard(ownsA: false);
        later.Step = 7;
        var ex = Assert.Throws<InvalidDataException>(() => ZeroRedundancy.Merge([Shard(ownsA: true), later]));
        Assert.Contains("do not belong together", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyedStreamsAreReproducibleAndDistinct()
    {
        var a = Generator.Stream(42, 3);
        var b = Generator.Stream(42, 3);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var firsts = Enumerable.Range(0, 64).Select(i => Generator.Stream(42, i).NextUInt64()).ToHashSet();
        Assert.Equal(64, firsts.Count);
        Assert.NotEqual(Generator.Stream(42, 0).NextUInt64(), Generator.Stream(43, 0).NextUInt64());
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }

    // Two ranks with identical data, seen from rank 0: a sum doubles every value.
    private sealed class MirroredPair : Communicator
    {
        public bool InBackward { get; set; }

        public List<(int Count, bool DuringBackward)> Started { get; } = [];

        public override int Rank => 0;

        public override int Size => 2;

        public override void Barrier(string what = "barrier")
        {
        }

        public override void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce") =>
            throw new NotSupportedException();

        public override void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast") =>
            throw new NotSupportedException();

        public override T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather") =>
            throw new NotSupportedException();

        public override T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather") =>
            throw new NotSupportedException();

        public override void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter") =>
            throw new NotSupportedException();

        public override PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce")
        {
            Started.Add((count, InBackward));
            return new Doubling(buffer, count);
        }

        public override void Abort(int exitCode) => throw new InvalidOperationException($"abort {exitCode}");

        private sealed class Doubling(float[] buffer, int count) : PendingReduction
        {
            public override void Wait()
            {
                for (int i = 0; i < count; i++)
                    buffer[i] *= 2;
            }
        }
    }
}
