using RlhfSharp.Alignment;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// The trainer side of data-parallel runs, without MPI: how a global batch is shared out, how a
/// rank's part of a micro-batch is weighted, checkpoints of a split optimizer, and the checks at start.
/// </summary>
public sealed class DataParallelUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dp-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    // 8 over 3 ranks: 3 + 3 + 2; the first total mod N ranks take one more.
    [InlineData(8, 3, new[] { 0, 3, 3, 3, 6, 2 })]
    [InlineData(8, 2, new[] { 0, 4, 4, 4 })]
    [InlineData(2, 3, new[] { 0, 1, 1, 1, 2, 0 })]
    [InlineData(5, 1, new[] { 0, 5 })]
    public void TheGlobalBatchIsSharedOutInContiguousRuns(int total, int ranks, int[] startsAndCounts)
    {
        for (int r = 0; r < ranks; r++)
            Assert.Equal((startsAndCounts[2 * r], startsAndCounts[(2 * r) + 1]), DataParallel.Share(total, r, ranks));
    }

    [Fact]
    public void ARanksPartOfAMicroBatchWeighsItsShareOfTokensOrRows()
    {
        // Rows 2 and 3 of four are this rank's; responses are 2, 4, 6 and 8 tokens long.
        var shard = new RolloutShard(2, 2, 4, [2, 4, 6, 8]);
        // Micro-batch rows 0, 3, 2: 16 tokens, 14 of them here; 2 of 3 rows.
        Assert.Equal(14.0 / 16, shard.Weight([0, 3, 2], LossAggregation.TokenMean));
        Assert.Equal(2.0 / 3, shard.Weight([0, 3, 2], LossAggregation.SeqMeanTokenMean));
        Assert.Equal(0, shard.Weight([0, 1], LossAggregation.TokenMean));
        Assert.Equal(1, new RolloutShard(0, 4, 4, [2, 4, 6, 8]).Weight([1, 3], LossAggregation.TokenMean));
    }

    [Fact]
    public void MicroBatchMetricsAreScaledByTheRanksWeight()
    {
        var m = new UpdateMetrics { Scale = 0.25 };
        m.Add("loss", 2);
        m.AddPerStep("grad_norm", 3); // the same on every rank: never scaled
        m.EndMicroBatch();
        m.EndStep();
        Assert.Equal(0.5, m.Means()["loss"]);
        Assert.Equal(3, m.Means()["grad_norm"]);
    }

    [Fact]
    public void ASplitOptimizerIsCheckpointedAsShardsAndReadBackWhole()
    {
        var a = Trainable([1f, 2f]);
        var b = Trainable([3f]);
        var shards = new List<byte[]>();
        foreach (int rank in new[] { 0, 1 })
        {
            var pa = Trainable([1f, 2f]);
            var pb = Trainable([3f]);
            var opt = new AdamW([pa, pb], lr: 0.1f);
            opt.ShardState(i => i == rank);
            pa.Grad = Tensor.FromArray([1f, -1f], 2);
            pb.Grad = Tensor.FromArray([2f], 1);
            opt.Step();
            using var ms = new MemoryStream();
            opt.Save(ms);
            shards.Add(ms.ToArray());
        }
        var store = new CheckpointStore(_dir);
        var path = store.Save(new TrainerState(1), new Dictionary<string, Models.Modules.Module>(), new AdamW([a, b]), shards);
        Assert.True(File.Exists(Path.Combine(path, "optimizer.shard-0-of-2.bin")));
        Assert.False(File.Exists(Path.Combine(path, CheckpointStore.OptimizerFile)));
        var whole = CheckpointStore.ReadOptimizer(path);
        Assert.All(whole.Params, p => Assert.Equal(2, p.Buffers.Count));

        File.Delete(Path.Combine(path, "optimizer.shard-1-of-2.bin"));
        var missing = Assert.Throws<InvalidDataException>(() => CheckpointStore.ReadOptimizer(path));
        Assert.Contains("optimizer shard 1 of 2 is missing (optimizer.shard-1-of-2.bin)", missing.Message, StringComparison.Ordinal);
        File.Move(Path.Combine(path, "optimizer.shard-0-of-2.bin"), Path.Combine(path, "optimizer.shard-0-of-x.bin"));
        var bad = Assert.Throws<InvalidDataException>(() => CheckpointStore.ReadOptimizer(path));
        Assert.Contains("optimizer.shard-R-of-N.bin", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABatchSmallerThanTheRanksOrADifferentConfigIsRefused()
    {
        var cfg = new SftConfig { BatchSize = 2 };
        using (World.Use(new FakeRanks(size: 4, mainConfigDiffers: false)))
        {
            var e = Assert.Throws<TrainingSetupException>(() => DataParallel.Start(cfg, "seed: 1"));
            Assert.Contains("batch_size (2) is the global micro-batch, shared out over the 4 ranks", e.Message, StringComparison.Ordinal);
        }
        cfg.BatchSize = 8;
        using (World.Use(new FakeRanks(size: 2, mainConfigDiffers: true)))
        {
            var e = Assert.Throws<TrainingSetupException>(() => DataParallel.Start(cfg, "seed: 1"));
            Assert.Contains("resolved a different config than rank 0", e.Message, StringComparison.Ordinal);
        }
        using (World.Use(new FakeRanks(size: 2, mainConfigDiffers: false)))
            Assert.Equal(2, DataParallel.Start(cfg, "seed: 1").Size);
    }

    private static Tensor Trainable(float[] values)
    {
        var t = Tensor.FromArray(values, values.Length);
        t.RequiresGrad = true;
        return t;
    }

    // Rank 1 of `size`: rank 0's config hash either matches this rank's or not; sums count this rank once.
    private sealed class FakeRanks(int size, bool mainConfigDiffers) : Communicator
    {
        public override int Rank => 1;

        public override int Size => size;

        public override void Broadcast<T>(Span<T> data, int root = 0, string what = "broadcast")
        {
            if (mainConfigDiffers)
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(data)[0] ^= 0xFF;
        }

        public override void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum, string what = "all-reduce")
        {
        }

        public override void Barrier(string what = "barrier")
        {
        }

        public override T[] AllGatherV<T>(ReadOnlySpan<T> mine, out int[] counts, string what = "all-gather") => throw new NotSupportedException();

        public override T[] GatherV<T>(ReadOnlySpan<T> mine, out int[] counts, int root = 0, string what = "gather") => throw new NotSupportedException();

        public override void ReduceScatter<T>(ReadOnlySpan<T> input, Span<T> output, ReduceOp op = ReduceOp.Sum, string what = "reduce-scatter") => throw new NotSupportedException();

        public override PendingReduction StartAllReduce(float[] buffer, int count, string what = "all-reduce") => throw new NotSupportedException();

        public override void Abort(int exitCode) => throw new NotSupportedException();
    }
}
