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
}

/// <summary>Scope returned by <see cref="GradMode.NoGrad"/>.</summary>
public readonly struct NoGradScope : IDisposable
{
    public void Dispose() => GradMode.Exit();
}
