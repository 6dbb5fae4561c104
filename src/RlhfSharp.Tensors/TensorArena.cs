using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

/// <summary>
/// Step-scoped recycling of tensor storage. Between <see cref="Step"/> and the disposal of what it
/// returns, the float storage of every op result (forward activations, gradients, scratch) is
/// taken from a pool and recorded; when the scope closes, the tensors built over it are marked
/// released and the storage goes back to the pool for the next step. A training loop that opens
/// one scope per step therefore allocates no new storage after its first step: no page faults,
/// no zeroing, no garbage collections.
/// <para>
/// Parameters, optimizer state and leaf gradients are created outside the pool and are never
/// released. A result needed after the step must be kept (<see cref="Keep"/>) or copied out
/// (<see cref="Tensor.ToArray"/>, <see cref="Tensor.Item"/>) inside it; using a released tensor
/// throws <see cref="TensorReleasedException"/> rather than reading another step's numbers.
/// Scopes belong to the thread that opened them; a step scope opened inside another is part of
/// it, a <see cref="Phase"/> returns its storage when it closes.
/// </para>
/// </summary>
public static class TensorArena
{
    /// <summary>Opens a step scope on this thread; dispose it when the step's tensors are no longer needed.</summary>
    public static IDisposable Step() => GradBuffers.BeginStep();

    /// <summary>
    /// Opens a phase of the open step (a step scope when none is open): storage rented while it is
    /// open goes back to the pool when it closes, and its tensors are released, so the rest of the
    /// step reuses that memory; a result the step still needs is kept with <see cref="Keep"/> inside
    /// the phase and then lives until the step ends. For steps that do several passes in turn (a
    /// rollout, scoring it under three models, minibatch updates), each pass in a phase.
    /// </summary>
    public static IDisposable Phase() => GradBuffers.BeginPhase();

    /// <summary>Whether a step scope is open on this thread.</summary>
    public static bool InStep => GradBuffers.InStep;

    /// <summary>Keeps <paramref name="tensor"/>'s storage, and every view of it, valid after the innermost open scope closes: past a step (no-op outside a scope), or from a phase into its step.</summary>
    public static Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        GradBuffers.Keep(tensor);
        return tensor;
    }

    /// <summary>Bytes of storage waiting in the pool for the next step.</summary>
    public static long PooledBytes => GradBuffers.PooledFloats * sizeof(float);

    /// <summary>Upper bound on the pool, in bytes (default: an eighth of the memory available to the process); lengths no step asked for in the last 64 steps leave it when a step ends, and at the bound the lengths asked for longest ago make room.</summary>
    public static long MaxPooledBytes
    {
        get => GradBuffers.MaxPooledFloats * sizeof(float);
        set => GradBuffers.MaxPooledFloats = value / sizeof(float);
    }

    /// <summary>Empties the pool, handing its memory back to the GC.</summary>
    public static void Trim() => GradBuffers.Trim();
}
