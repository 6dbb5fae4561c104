namespace RlhfSharp.Tensors.Autograd;

/// <summary>
/// The engine's float storage allocator, with two kinds of scope on a thread.
/// <para>
/// A <b>backward scope</b> (one per <see cref="Tensor.Backward"/>) records the arrays rented while
/// it is open; when backward has consumed a gradient (its node has run, or it was added into a
/// leaf's <see cref="Tensor.Grad"/>) and no other live gradient shares its storage, the array goes
/// back to a size-keyed pool at once and the next gradient of the same size reuses it.
/// </para>
/// <para>
/// A <b>step scope</b> (<see cref="TensorArena.Step"/>, one per training step) records every array
/// rented while it is open, forward activations included, and every tensor built over one of them.
/// When it closes, each such tensor is marked released (touching its elements afterwards throws
/// <see cref="TensorReleasedException"/>) and the arrays go back to the pool, so the next step
/// runs on the same memory: no fresh pages to fault in and zero, no collections.
/// </para>
/// Outside both scopes <see cref="Rent"/> is a plain allocation. Arrays shorter than
/// <see cref="MinPooledLength"/> are always left to the GC.
/// </summary>
internal static class GradBuffers
{
    /// <summary>Arrays shorter than this are left to the GC (gen0 handles them cheaply).</summary>
    internal const int MinPooledLength = 256;

    private static readonly Dictionary<int, Stack<float[]>> Pool = [];
    private static readonly Lock PoolLock = new();
    private static long _pooledFloats;

    // Steps closed so far, and for each pooled length the step count when a step last asked for
    // it. Lengths no step asked for in the last KeepSteps steps are dropped when a step closes,
    // and a pool at its bound makes room by dropping the lengths asked for longest ago: the pool
    // follows the shapes in use (batches padded to varying lengths, a stage with other shapes)
    // instead of holding every size ever seen.
    private const long KeepSteps = 64;
    private static readonly Dictionary<int, long> LastWanted = [];
    private static readonly List<int> Stale = [];
    private static long _stepClock;
    private static long _maxPooledFloats = DefaultMaxPooledFloats();

    [ThreadStatic]
    private static Scope? _current;

    [ThreadStatic]
    private static StepScope? _step;

    [ThreadStatic]
    private static StepScope? _spareStep;

    /// <summary>Upper bound on the floats kept in the pool across all sizes.</summary>
    internal static long MaxPooledFloats
    {
        get => Interlocked.Read(ref _maxPooledFloats);
        set => Interlocked.Exchange(ref _maxPooledFloats, Math.Max(0, value));
    }

    /// <summary>Floats now waiting in the pool.</summary>
    internal static long PooledFloats
    {
        get
        {
            lock (PoolLock)
                return _pooledFloats;
        }
    }

    // An eighth of the memory the GC may use, at least 64 MiB: a step's activations and gradients
    // of a model that fits the machine stay pooled; beyond that they go back to the GC.
    private static long DefaultMaxPooledFloats()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return Math.Max(16L << 20, available / 8 / sizeof(float));
    }

    /// <summary>Opens a scope for one backward pass on this thread (scopes nest, e.g. checkpointing).</summary>
    public static Scope Begin()
    {
        var scope = new Scope(_current);
        _current = scope;
        return scope;
    }

    /// <summary>Opens a step scope on this thread; a step scope inside another is part of the outer one.</summary>
    public static IDisposable BeginStep()
    {
        if (_step is not null)
            return StepScope.Nested;
        // One scope object per thread, reused: its tables keep their capacity from step to step.
        var step = _spareStep ?? new StepScope();
        _spareStep = null;
        _step = step;
        return new StepHandle(step, step.Open());
    }

    /// <summary>
    /// Opens a phase inside the open step scope (a step scope when none is open): what is rented
    /// while it is open goes back to the pool when it closes, so the step's later work reuses it,
    /// except the storage of tensors kept in it, which passes to the enclosing scope.
    /// </summary>
    public static IDisposable BeginPhase()
    {
        var parent = _step;
        if (parent is null)
            return BeginStep();
        var phase = parent.SparePhase ?? new StepScope();
        parent.SparePhase = null;
        phase.Parent = parent;
        _step = phase;
        return new StepHandle(phase, phase.Open());
    }

    /// <summary>Whether a step scope is open on this thread.</summary>
    public static bool InStep => _step is not null;

    /// <summary>
    /// Storage for a result of <paramref name="length"/> floats whose every element the caller
    /// writes; the contents are unspecified.
    /// </summary>
    public static float[] Rent(int length)
    {
        var scope = _current;
        var step = _step;
        if ((scope is null && step is null) || length < MinPooledLength)
            return GC.AllocateUninitializedArray<float>(length);
        float[]? array = null;
        lock (PoolLock)
        {
            if (step is not null)
                LastWanted[length] = _stepClock;
            if (Pool.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                array = stack.Pop();
                _pooledFloats -= length;
            }
        }
        array ??= GC.AllocateUninitializedArray<float>(length);
        scope?.Owned.Add(array);
        step?.Rented(array);
        return array;
    }

    /// <summary>Like <see cref="Rent"/>, with every element set to zero.</summary>
    public static float[] RentZeroed(int length)
    {
        if ((_current is null && _step is null) || length < MinPooledLength)
            return new float[length];
        var array = Rent(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>
    /// Returns <paramref name="array"/> to the pool if the current backward scope rented it; the
    /// caller guarantees that no live tensor uses it any more.
    /// </summary>
    public static void Release(float[]? array)
    {
        var scope = _current;
        if (array is null || scope is null || !scope.Owned.Remove(array))
            return;
        for (var step = _step; step is not null && !step.Returned(array); step = step.Parent)
        {
        }
        Push(array);
    }

    /// <summary>Whether the current backward scope rented <paramref name="array"/> and has not released it.</summary>
    public static bool Owns(float[]? array) => array is not null && _current is { } scope && scope.Owned.Contains(array);

    /// <summary>Records a tensor built over storage the open step scope rented, to release it with the step.</summary>
    internal static void Track(Tensor tensor, float[] data)
    {
        // The scope that rented the storage records the tensor (a phase may view its step's arrays).
        if (data.Length < MinPooledLength)
            return;
        for (var step = _step; step is not null && !step.Track(tensor, data); step = step.Parent)
        {
        }
    }

    /// <summary>Keeps <paramref name="tensor"/>'s storage (and every view of it) alive past the open step scope.</summary>
    internal static void Keep(Tensor tensor)
    {
        if (_step is { } step && tensor.Dtype == DType.Float32 && tensor.RawFloats is { } data)
            step.Keep(data);
        // Storage a phase's enclosing scope rented outlives the phase already.
    }

    private static void Push(float[] array)
    {
        lock (PoolLock)
        {
            if (array.Length > _maxPooledFloats)
                return;
            while (_pooledFloats + array.Length > _maxPooledFloats && EvictOldest(array.Length))
            {
            }
            if (_pooledFloats + array.Length > _maxPooledFloats)
                return;
            if (!Pool.TryGetValue(array.Length, out var stack))
            {
                stack = new Stack<float[]>();
                Pool[array.Length] = stack;
            }
            stack.Push(array);
            _pooledFloats += array.Length;
        }
    }

    /// <summary>Empties the pool (its arrays go to the GC).</summary>
    internal static void Trim()
    {
        lock (PoolLock)
        {
            Pool.Clear();
            LastWanted.Clear();
            _pooledFloats = 0;
        }
    }

    // Drops the pooled length (other than `keep`) a step asked for longest ago; false when none is left. Under PoolLock.
    private static bool EvictOldest(int keep)
    {
        int oldest = -1;
        long oldestWanted = long.MaxValue;
        foreach (var length in Pool.Keys)
        {
            long wanted = LastWanted.TryGetValue(length, out long w) ? w : -1;
            if (length != keep && wanted < oldestWanted)
            {
                oldest = length;
                oldestWanted = wanted;
            }
        }
        if (oldest < 0)
            return false;
        _pooledFloats -= (long)oldest * Pool[oldest].Count;
        Pool.Remove(oldest);
        LastWanted.Remove(oldest);
        return true;
    }

    /// <summary>Arrays of exactly <paramref name="length"/> floats waiting in the pool.</summary>
    internal static int PooledCount(int length)
    {
        lock (PoolLock)
            return Pool.TryGetValue(length, out var stack) ? stack.Count : 0;
    }

    // A step closed: lengths that no step wanted in the last KeepSteps steps leave the pool.
    private static void StepClosed()
    {
        lock (PoolLock)
        {
            _stepClock++;
            Stale.Clear();
            foreach (var (length, stack) in Pool)
            {
                if (!LastWanted.TryGetValue(length, out long last) || _stepClock - last > KeepSteps)
                {
                    _pooledFloats -= (long)length * stack.Count;
                    Stale.Add(length);
                }
            }
            foreach (int length in Stale)
            {
                Pool.Remove(length);
                LastWanted.Remove(length);
            }
        }
    }

    /// <summary>One backward pass's record of rented arrays; disposing it closes the scope.</summary>
    internal sealed class Scope : IDisposable
    {
        private readonly Scope? _parent;

        public Scope(Scope? parent) => _parent = parent;

        public HashSet<float[]> Owned { get; } = new(ReferenceEqualityComparer.Instance);

        public void Dispose()
        {
            // Arrays still owned here are live (leaf gradients, values handed back to the caller)
            // or garbage; an open step scope returns them with the step, else the GC takes them.
            _current = _parent;
        }
    }

    /// <summary>Closes the step it was opened for, once; the scope object itself is reused by later steps.</summary>
    private sealed class StepHandle(StepScope scope, long generation) : IDisposable
    {
        public void Dispose()
        {
            if (scope.Generation == generation)
                scope.Dispose();
        }
    }

    /// <summary>One training step's record of rented arrays and the tensors over them.</summary>
    internal sealed class StepScope : IDisposable
    {
        internal static readonly StepScope Nested = new() { _nested = true };

        // Every array rented in the step (value: whether it is out of the pool now).
        private readonly Dictionary<float[], bool> _arrays = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<float[]> _kept = new(ReferenceEqualityComparer.Instance);
        private readonly List<Tensor> _tensors = [];
        private bool _nested;
        private bool _closed;
        private long _generation;

        // Starts a step on this (reused) scope and returns its number.
        internal long Open()
        {
            _closed = false;
            return ++_generation;
        }

        internal long Generation => _generation;

        /// <summary>The scope a phase runs in (null for a step).</summary>
        internal StepScope? Parent { get; set; }

        /// <summary>A closed phase of this scope, reused by its next phase.</summary>
        internal StepScope? SparePhase { get; set; }

        internal void Rented(float[] array) => _arrays[array] = true;

        // False when this scope did not rent the array.
        internal bool Returned(float[] array)
        {
            if (!_arrays.ContainsKey(array))
                return false;
            _arrays[array] = false;
            return true;
        }

        // False when this scope did not rent the storage.
        internal bool Track(Tensor tensor, float[] data)
        {
            if (!_arrays.ContainsKey(data))
                return false;
            _tensors.Add(tensor);
            return true;
        }

        internal void Keep(float[] data)
        {
            if (_arrays.ContainsKey(data))
                _kept.Add(data);
        }

        public void Dispose()
        {
            if (_nested || _closed)
                return;
            _closed = true;
            if (!ReferenceEquals(_step, this))
                throw new InvalidOperationException("internal: step scopes on a thread must close in the reverse order they opened");
            if (Parent is { } parent)
            {
                ClosePhase(parent);
                return;
            }
            _step = null;
            foreach (var t in _tensors)
            {
                if (!_kept.Contains(t.RawFloats!))
                    t.MarkReleased();
            }
            foreach (var (array, outOfPool) in _arrays)
            {
                if (outOfPool && !_kept.Contains(array))
                    Push(array);
            }
            _arrays.Clear();
            _kept.Clear();
            _tensors.Clear();
            _spareStep = this;
            StepClosed();
        }

        // A phase ends: its kept storage (and the tensors over it) passes to the enclosing scope,
        // the rest is released and pooled now.
        private void ClosePhase(StepScope parent)
        {
            _step = parent;
            foreach (var t in _tensors)
            {
                if (_kept.Contains(t.RawFloats!))
                    parent._tensors.Add(t);
                else
                    t.MarkReleased();
            }
            foreach (var (array, outOfPool) in _arrays)
            {
                if (_kept.Contains(array))
                    parent._arrays[array] = outOfPool;
                else if (outOfPool)
                    Push(array);
            }
            _arrays.Clear();
            _kept.Clear();
            _tensors.Clear();
            Parent = null;
            parent.SparePhase = this;
        }
    }
}
