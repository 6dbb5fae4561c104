using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// A trainer's view of a data-parallel run (<c>mpirun -np N rlhf …</c>; one process is N = 1).
/// <c>batch_size</c> stays the global micro-batch: every rank draws the same batch from the same
/// seeded loader and keeps its contiguous share (<see cref="Shard{T}"/>). Each rank scales its
/// loss by its share of the global count (of pairs, or of tokens), so the gradients summed over
/// the ranks (<see cref="BeginSync"/>/<see cref="FinishSync"/>, in buckets during the backward
/// pass) are the gradient of the global batch, and the ranks take the same optimizer step as one
/// process would. With <c>zero_stage: 1</c> the moments are split across the ranks and the
/// parameters all-gathered after each step (<see cref="AfterStep"/>).
/// </summary>
public sealed class DataParallel : IDisposable
{
    private GradientSync? _sync;
    private ZeroRedundancy? _zero;

    private DataParallel(Communicator comm, TrainLoopConfig cfg)
    {
        Comm = comm;
        Config = cfg;
        Guard = new NonFiniteGuard(cfg, comm);
    }

    public Communicator Comm { get; }

    public TrainLoopConfig Config { get; }

    public int Rank => Comm.Rank;

    public int Size => Comm.Size;

    public bool IsMain => Comm.IsMain;

    /// <summary>The run's check of every update for NaN and infinity (<c>on_nonfinite</c>).</summary>
    public NonFiniteGuard Guard { get; }

    /// <summary>The optimizer's moments are split across the ranks (ZeRO-1).</summary>
    public bool ShardsOptimizer => _zero is not null;

    /// <summary>The gradient buckets of the latest step.</summary>
    public GradientSyncStats? LastSync => _sync?.LastStats;

    /// <summary>
    /// Joins the run's ranks with <paramref name="cfg"/>'s settings: the collective timeout, and a
    /// check that every rank resolved the same config (a rank started with other flags would
    /// train a different model).
    /// </summary>
    public static DataParallel Start(TrainLoopConfig cfg, string resolvedConfigYaml)
    {
        var comm = World.Current;
        comm.Timeout = TimeSpan.FromSeconds(cfg.DistTimeoutSeconds);
        if (comm.Size > 1)
        {
            if (cfg.BatchSize < comm.Size)
                throw new TrainingSetupException($"batch_size ({cfg.BatchSize}) is the global micro-batch, shared out over the {comm.Size} ranks; it must be at least {comm.Size} so every rank gets examples");
            var mine = SHA256.HashData(Encoding.UTF8.GetBytes(resolvedConfigYaml));
            var main = (byte[])mine.Clone();
            comm.Broadcast<byte>(main, 0, "config check");
            bool same = mine.AsSpan().SequenceEqual(main);
            if (comm.Sum(same ? 0 : 1, "config check") > 0)
            {
                throw new TrainingSetupException(same
                    ? $"rank {comm.Rank}: another rank resolved a different config than rank 0; start every rank with the same command line and files"
                    : $"rank {comm.Rank}: this rank resolved a different config than rank 0 (other flags, or a different config file on this machine); start every rank with the same command line and files");
            }
        }
        return new DataParallel(comm, cfg);
    }

    /// <summary>
    /// Sets up gradient summing for <paramref name="model"/>'s trainable parameters and, with
    /// <c>zero_stage: 1</c>, shards <paramref name="optimizer"/>'s state.
    /// </summary>
    public void Attach(Module model, Optimizer optimizer) => Attach(model.TrainableParameters(), optimizer);

    /// <summary>As <see cref="Attach(Module, Optimizer)"/> for the parameters of several models under one optimizer (PPO's policy and critic).</summary>
    public void Attach(IEnumerable<Tensor> trainable, Optimizer optimizer)
    {
        if (Size > 1)
            _sync = new GradientSync(trainable, Comm, (long)(Config.GradBucketMb * (1 << 20)), Config.OverlapGradSync);
        if (Config.ZeroStage == 1)
            _zero = new ZeroRedundancy(optimizer, Comm);
    }

    /// <summary>This rank's contiguous share of <paramref name="total"/> items: the first total mod N ranks get one more.</summary>
    public (int Start, int Count) Share(int total) => Share(total, Rank, Size);

    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="total"/> items over <paramref name="size"/> ranks.</summary>
    public static (int Start, int Count) Share(int total, int rank, int size)
    {
        int per = total / size, extra = total % size;
        return ((rank * per) + Math.Min(rank, extra), per + (rank < extra ? 1 : 0));
    }

    /// <summary>This rank's share of a global batch.</summary>
    public List<T> Shard<T>(IReadOnlyList<T> global)
    {
        var (start, count) = Share(global.Count);
        var local = new List<T>(count);
        for (int i = start; i < start + count; i++)
            local.Add(global[i]);
        return local;
    }

    /// <summary>Call before the backward pass of an optimizer step's last micro-batch.</summary>
    public void BeginSync() => _sync?.Begin();

    /// <summary>Call after it, on every rank (also one whose share was empty): the gradients are then the global batch's.</summary>
    public void FinishSync() => _sync?.Finish();

    /// <summary>Call after <see cref="Optimizer.Step"/>: with ZeRO-1 every rank receives the parameters the others updated.</summary>
    public void AfterStep() => _zero?.GatherParameters();

    /// <summary>
    /// The end of an optimizer step, once every micro-batch's backward pass has run: the gradients
    /// summed over the ranks (<see cref="FinishSync"/>), the global norm of each of
    /// <paramref name="clipGroups"/> clipped at max_grad_norm (only measured when that is 0),
    /// <see cref="Guard"/>'s check of <paramref name="localLoss"/> (this rank's part of the loss) and
    /// the norms, then the optimizer step with ZeRO-1's gather and the check of the updated weights,
    /// unless the guard skips the update. Every rank must call it. Returns each group's norm before
    /// clipping, in order.
    /// </summary>
    public float[] Update(Optimizer optimizer, double localLoss, IReadOnlyList<(string Metric, IReadOnlyList<Tensor> Parameters)> clipGroups)
    {
        FinishSync();
        var norms = new float[clipGroups.Count];
        var named = new (string, double)[clipGroups.Count];
        for (int g = 0; g < clipGroups.Count; g++)
        {
            norms[g] = NonFiniteGuard.GradNorm(clipGroups[g].Parameters, Config.MaxGradNorm);
            named[g] = (clipGroups[g].Metric, norms[g]);
        }
        if (Guard.Admit(localLoss, named))
        {
            optimizer.Step();
            AfterStep();
            Guard.CheckUpdated(optimizer.Parameters);
        }
        return norms;
    }

    /// <summary><see cref="Update(Optimizer, double, IReadOnlyList{ValueTuple{string, IReadOnlyList{Tensor}}})"/> with one group, <c>train/grad_norm</c>.</summary>
    public float Update(Optimizer optimizer, IEnumerable<Tensor> trainable, double localLoss) =>
        Update(optimizer, localLoss, [("train/grad_norm", trainable.ToList())])[0];

    /// <summary>Every rank's values concatenated in rank order (the whole batch's, when each rank holds a contiguous share).</summary>
    public double[] Gather(double[] local, string what = "gather") => Size == 1 ? local : Comm.AllGatherV<double>(local, out _, what);

    /// <summary>The sum of <paramref name="value"/> over the ranks.</summary>
    public double Sum(double value, string what = "sum") => Comm.Sum(value, what);

    /// <summary>
    /// Per key, the sum over the ranks of <paramref name="local"/> (each rank gives its weighted
    /// part, so the sum is the global figure). A key missing on some ranks counts as zero there.
    /// </summary>
    public Dictionary<string, double> SumMetrics(IReadOnlyDictionary<string, double> local)
    {
        if (Size == 1)
            return new Dictionary<string, double>(local);
        // Values travel as round-trip text: JSON numbers have no NaN (an unclipped grad norm is one).
        var bytes = JsonSerializer.SerializeToUtf8Bytes(local.ToDictionary(k => k.Key, k => k.Value.ToString("R", CultureInfo.InvariantCulture)));
        var all = Comm.AllGatherV<byte>(bytes, out var counts, "metrics");
        var sums = new SortedDictionary<string, double>(StringComparer.Ordinal);
        int at = 0;
        foreach (var c in counts)
        {
            var part = JsonSerializer.Deserialize<Dictionary<string, string>>(all.AsSpan(at, c))!;
            foreach (var (k, v) in part)
                sums[k] = sums.GetValueOrDefault(k) + double.Parse(v, CultureInfo.InvariantCulture);
            at += c;
        }
        return new Dictionary<string, double>(sums);
    }

    /// <summary>
    /// Computes one value per item of <paramref name="items"/> with this rank doing only its
    /// contiguous share (in batches of <paramref name="batchSize"/>), then gathers everything so
    /// every rank holds the whole list in order (DPO's reference log-probs).
    /// </summary>
    public List<(float A, float B)> MapShared<T>(IReadOnlyList<T> items, int batchSize, Func<IReadOnlyList<T>, IReadOnlyList<(float A, float B)>> compute)
    {
        var (start, count) = Share(items.Count);
        var mine = new List<float>(2 * count);
        for (int at = start; at < start + count; at += batchSize)
        {
            var batch = new List<T>();
            for (int i = at; i < Math.Min(at + batchSize, start + count); i++)
                batch.Add(items[i]);
            foreach (var (a, b) in compute(batch))
            {
                mine.Add(a);
                mine.Add(b);
            }
        }
        var all = Comm.AllGatherV<float>(mine.ToArray(), out _, "shared map");
        if (all.Length != 2 * items.Count)
            throw new DistributedException($"the ranks computed {all.Length / 2} values for {items.Count} items");
        var result = new List<(float, float)>(items.Count);
        for (int i = 0; i < items.Count; i++)
            result.Add((all[2 * i], all[(2 * i) + 1]));
        return result;
    }

    /// <summary>In a data-parallel run (or with ZeRO-1), what the summary reports about the ranks and the memory each one holds.</summary>
    public void AddSummary(System.Text.Json.Nodes.JsonObject summary, Module model, Optimizer optimizer)
    {
        const double Mb = 1 << 20;
        if (Size == 1 && Config.ZeroStage == 0)
            return;
        summary["distributed/ranks"] = Size;
        summary["distributed/zero_stage"] = Config.ZeroStage;
        long parameters = model.NamedParameters().Sum(p => 4L * p.Param.Value.Numel);
        long gradients = model.TrainableParameters().Sum(p => 4L * p.Numel);
        summary["memory/parameters_mb_per_rank"] = Math.Round(parameters / Mb, 3);
        summary["memory/gradients_mb_per_rank"] = Math.Round(gradients / Mb, 3);
        summary["memory/optimizer_state_mb_per_rank"] = Math.Round(Comm.Max(optimizer.StateBytes(), "memory") / Mb, 3);
    }

    public void Dispose() => _sync?.Dispose();
}
