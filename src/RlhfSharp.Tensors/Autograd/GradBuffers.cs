namespace RlhfSharp.Tensors.Autograd;

/// <summary>
/// Recycles the storage of gradients while <see cref="Tensor.Backward"/> runs. Each backward pass
/// opens a scope on its thread; ops that allocate result storage through <see cref="Rent"/>
/// inside that scope record the array as owned by it. When backward has consumed a gradient (its
/// node has run, or it was added into a leaf's <see cref="Tensor.Grad"/>) and no other live
/// gradient shares its storage, the array goes back to a size-keyed pool and the next gradient of
/// the same size reuses it: no fresh pages to fault in and zero, and the memory is still in cache.
/// Only arrays rented in the current scope are ever returned, so storage from forward passes,
/// user tensors and leaf gradients is never recycled. Outside a scope <see cref="Rent"/> is a
/// plain allocation.
/// </summary>
internal static class GradBuffers
{
    /// <summary>Arrays shorter than this are left to the GC (gen0 handles them cheaply).</summary>
    internal const int MinPooledLength = 2048;

    /// <summary>Upper bound on the floats kept in the pool across all sizes (64 MiB).</summary>
    private const long MaxPooledFloats = 16L << 20;

    private static readonly Dictionary<int, Stack<float[]>> Pool = [];
    private static readonly Lock PoolLock = new();
    private static long _pooledFloats;

    [ThreadStatic]
    private static Scope? _current;

    /// <summary>Opens a scope for one backward pass on this thread (scopes nest, e.g. checkpointing).</summary>
    public static Scope Begin()
    {
        var scope = new Scope(_current);
        _current = scope;
        return scope;
    }

    /// <summary>
    /// Storage for a result of <paramref name="length"/> floats whose every element the caller
    /// writes; the contents are unspecified.
    /// </summary>
    public static float[] Rent(int length)
    {
        var scope = _current;
        if (scope is null || length < MinPooledLength)
            return GC.AllocateUninitializedArray<float>(length);
        float[]? array = null;
        lock (PoolLock)
        {
            if (Pool.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                array = stack.Pop();
                _pooledFloats -= length;
            }
        }
        array ??= GC.AllocateUninitializedArray<float>(length);
        scope.Owned.Add(array);
        return array;
    }

    /// <summary>Like <see cref="Rent"/>, with every element set to zero.</summary>
    public static float[] RentZeroed(int length)
    {
        if (_current is null || length < MinPooledLength)
            return new float[length];
        var array = Rent(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>
    /// Returns <paramref name="array"/> to the pool if the current scope rented it; the caller
    /// guarantees that no live tensor uses it any more.
    /// </summary>
    public static void Release(float[]? array)
    {
        var scope = _current;
        if (array is null || scope is null || !scope.Owned.Remove(array))
            return;
        lock (PoolLock)
        {
            if (_pooledFloats + array.Length > MaxPooledFloats)
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

    /// <summary>Whether the current scope rented <paramref name="array"/> and has not released it.</summary>
    public static bool Owns(float[]? array) => array is not null && _current is { } scope && scope.Owned.Contains(array);

    /// <summary>One backward pass's record of rented arrays; disposing it closes the scope.</summary>
    internal sealed class Scope : IDisposable
    {
        private readonly Scope? _parent;

        public Scope(Scope? parent) => _parent = parent;

        public HashSet<float[]> Owned { get; } = new(ReferenceEqualityComparer.Instance);

        public void Dispose()
        {
            // Arrays still owned here are either live (leaf gradients, values handed back to the
            // caller) or garbage; both are left to the GC.
            _current = _parent;
        }
    }
}
