namespace RlhfSharp.Tensors.Autograd;

/// <summary>Whether ops record the graph for backpropagation (per thread).</summary>
public static class GradMode
{
    [ThreadStatic]
    private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    /// <summary>Disables graph recording until the returned scope is disposed: <c>using (GradMode.NoGrad()) { … }</c>.</summary>
    public static NoGradScope NoGrad()
    {
        _disabledDepth++;
        return new NoGradScope();
    }

    internal static void Exit() => _disabledDepth--;

    /// <summary>Turns graph recording back on inside a NoGrad region until disposed (used to recompute checkpointed blocks during backward).</summary>
    public static EnableGradScope EnableGrad()
    {
        var saved = _disabledDepth;
        _disabledDepth = 0;
        return new EnableGradScope(saved);
    }

    internal static void Restore(int depth) => _disabledDepth = depth;
}

/// <summary>Scope returned by <see cref="GradMode.EnableGrad"/>.</summary>
public readonly struct EnableGradScope : IDisposable
{
    private readonly int _saved;

    internal EnableGradScope(int saved) => _saved = saved;

    public void Dispose() => GradMode.Restore(_saved);
}

/// <summary>Scope returned by <see cref="GradMode.NoGrad"/>.</summary>
public readonly struct NoGradScope : IDisposable
{
    public void Dispose() => GradMode.Exit();
}
