using System.Diagnostics;

namespace RlhfSharp.Tensors.Distributed;

/// <summary>What the latest synchronised backward pass sent.</summary>
/// <param name="Buckets">All-reduces it took.</param>
/// <param name="Values">Gradient values summed over the ranks.</param>
/// <param name="StartedDuringBackward">Buckets that were on their way before <see cref="GradientSync.Finish"/> was called.</param>
/// <param name="WaitSeconds">Time <see cref="GradientSync.Finish"/> spent waiting for the sums after the backward pass.</param>
public readonly record struct GradientSyncStats(int Buckets, long Values, int StartedDuringBackward, double WaitSeconds);

/// <summary>
/// Sums the gradients of a model's parameters over the ranks of a data-parallel run, as
/// PyTorch's DistributedDataParallel does: parameters are grouped into buckets of about
/// <c>bucketBytes</c> in the order the backward pass finishes them (the reverse of their
/// order in the model), and a bucket's all-reduce starts as soon as every gradient in it is
/// final (<see cref="Tensor.GradReadyHook"/>), while the backward pass goes on. Buckets go out
/// in the same order on every rank, as MPI requires. The trainers scale each rank's loss so
/// that the sum is the gradient of the global batch's loss.
/// <para>
/// Per optimizer step: <see cref="Begin"/> before the last micro-batch's backward (earlier
/// micro-batches just accumulate locally), then <see cref="Finish"/> after it. A parameter
/// without a gradient on any rank keeps none; one with a gradient on some ranks gets the sum.
/// </para>
/// </summary>
public sealed class GradientSync : IDisposable
{
    private readonly Communicator _comm;
    private readonly Tensor[] _params;
    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<Tensor, (int Bucket, int Slot)> _where = new(ReferenceEqualityComparer.Instance);
    private readonly bool _overlap;
    private int _nextLaunch;
    private bool _armed;

    /// <summary>
    /// The first bucket (the last layers, whose gradients are final first) holds at most this many
    /// bytes, so sending starts early in the backward pass whatever the bucket size (as in PyTorch's DDP).
    /// </summary>
    public const long FirstBucketBytes = 1L << 20;

    /// <param name="parameters">The parameters whose gradients are summed, in model order.</param>
    /// <param name="comm">The ranks.</param>
    /// <param name="bucketBytes">About how many gradient bytes one all-reduce carries (the first at most <see cref="FirstBucketBytes"/>).</param>
    /// <param name="overlap">Start each bucket during the backward pass (true) or all at <see cref="Finish"/>.</param>
    public GradientSync(IEnumerable<Tensor> parameters, Communicator comm, long bucketBytes = 25L << 20, bool overlap = true)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 4);
        _comm = comm;
        _params = [.. parameters];
        _overlap = overlap && comm.Size > 1;
        var current = new List<Tensor>();
        long bytes = 0;
        for (int i = _params.Length - 1; i >= 0; i--)
        {
            var p = _params[i];
            if (_where.ContainsKey(p))
                throw new ArgumentException($"GradientSync: parameter '{p.Name ?? $"param{i}"}' is listed twice");
            long cap = _buckets.Count == 0 ? Math.Min(bucketBytes, FirstBucketBytes) : bucketBytes;
            if (current.Count > 0 && bytes + (4L * p.Numel) > cap)
            {
                AddBucket(current);
                current = [];
                bytes = 0;
            }
            _where[p] = (_buckets.Count, current.Count);
            current.Add(p);
            bytes += 4L * p.Numel;
        }
        if (current.Count > 0)
            AddBucket(current);
        if (_overlap)
        {
            foreach (var p in _params)
                p.GradReadyHook = OnReady;
        }
    }

    public int BucketCount => _buckets.Count;

    public GradientSyncStats LastStats { get; private set; }

    /// <summary>Arms the hooks for the coming backward pass (the last of the optimizer step).</summary>
    public void Begin()
    {
        foreach (var b in _buckets)
        {
            Array.Clear(b.Ready);
            b.ReadyCount = 0;
            b.Pending = null;
        }
        _nextLaunch = 0;
        _armed = true;
    }

    /// <summary>
    /// After the backward pass: sends the buckets not yet on their way, waits for every sum and
    /// writes it into each parameter's <see cref="Tensor.Grad"/>.
    /// </summary>
    public void Finish()
    {
        if (!_armed)
            throw new InvalidOperationException("GradientSync.Finish: call Begin() before the backward pass");
        _armed = false;
        if (_comm.Size == 1)
        {
            LastStats = new GradientSyncStats(0, 0, 0, 0);
            return;
        }
        int early = _nextLaunch;
        var clock = Stopwatch.StartNew();
        while (_nextLaunch < _buckets.Count)
            Launch(_buckets[_nextLaunch++]);
        long values = 0;
        foreach (var b in _buckets)
        {
            b.Pending!.Wait();
            b.Pending = null;
            values += b.Values;
            int at = 0;
            for (int s = 0; s < b.Params.Length; s++)
            {
                var p = b.Params[s];
                int n = (int)p.Numel;
                if (b.Buffer[b.Values + s] > 0)
                    WriteGrad(p, b.Buffer.AsSpan(at, n));
                else
                    p.Grad = null;
                at += n;
            }
        }
        LastStats = new GradientSyncStats(_buckets.Count, values, early, clock.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        foreach (var p in _params)
        {
            if (p.GradReadyHook == OnReady)
                p.GradReadyHook = null;
        }
    }

    private void OnReady(Tensor p)
    {
        if (!_armed || !_where.TryGetValue(p, out var at))
            return;
        var b = _buckets[at.Bucket];
        if (b.Ready[at.Slot])
            throw new InvalidOperationException($"GradientSync: the gradient of '{p.Name}' was reported final twice in one backward pass (a parameter used inside two checkpointed blocks?); train without overlap");
        if (b.Pending is not null)
            return;
        b.Ready[at.Slot] = true;
        b.ReadyCount++;
        while (_nextLaunch < _buckets.Count && _buckets[_nextLaunch].ReadyCount == _buckets[_nextLaunch].Params.Length)
            Launch(_buckets[_nextLaunch++]);
    }

    // Packs the bucket's gradients (zeros where none) and a has-gradient flag per parameter, and starts the sum.
    private void Launch(Bucket b)
    {
        int at = 0;
        for (int s = 0; s < b.Params.Length; s++)
        {
            var p = b.Params[s];
            int n = (int)p.Numel;
            var dst = b.Buffer.AsSpan(at, n);
            if (p.Grad is { } g)
            {
                if (!g.IsOnDevice && g.Dtype == DType.Float32 && g.IsContiguous)
                    g.Span.CopyTo(dst);
                else
                    g.ToArray().CopyTo(dst);
                b.Buffer[b.Values + s] = 1;
            }
            else
            {
                dst.Clear();
                b.Buffer[b.Values + s] = 0;
            }
            at += n;
        }
        b.Pending = _comm.StartAllReduce(b.Buffer, b.Buffer.Length, $"gradient all-reduce (bucket {b.Index + 1} of {_buckets.Count})");
    }

    private static void WriteGrad(Tensor p, ReadOnlySpan<float> sum)
    {
        if (p.Grad is { IsOnDevice: false, Dtype: DType.Float32, IsContiguous: true } g && g.Numel == sum.Length && !p.IsOnDevice)
        {
            sum.CopyTo(g.Span);
            return;
        }
        var host = Tensor.Wrap(sum.ToArray(), p.Shape.ToArray());
        p.Grad = p.IsOnDevice ? host.To(p.Device) : host;
    }

    private void AddBucket(List<Tensor> ps)
    {
        long values = ps.Sum(p => p.Numel);
        if (values + ps.Count > int.MaxValue)
            throw new ArgumentException($"GradientSync: parameter '{ps[0].Name}' has more values than one all-reduce carries; it needs splitting");
        _buckets.Add(new Bucket(_buckets.Count, [.. ps], (int)values));
    }

    private sealed class Bucket(int index, Tensor[] ps, int values)
    {
        public int Index { get; } = index;

        public Tensor[] Params { get; } = ps;

        public int Values { get; } = values;

        /// <summary>The gradients, then one has-gradient flag per parameter; pinned while MPI reads it.</summary>
        public float[] Buffer { get; } = GC.AllocateArray<float>(values + ps.Length, pinned: true);

        public bool[] Ready { get; } = new bool[ps.Length];

        public int ReadyCount { get; set; }

        public PendingReduction? Pending { get; set; }
    }
}
