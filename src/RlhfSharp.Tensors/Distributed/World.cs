namespace RlhfSharp.Tensors.Distributed;

/// <summary>
/// The process group this process belongs to: one process on its own, or the ranks of an MPI
/// job when started by <c>mpirun</c>. <see cref="Initialize"/> joins the MPI job once per
/// process; <see cref="Shutdown"/> leaves it (MPI cannot be joined again afterwards).
/// </summary>
public static class World
{
    /// <summary>Set to <c>off</c> to run each process on its own even under mpirun.</summary>
    public const string SwitchVariable = "RLHFSHARP_DISTRIBUTED";

    private static Communicator _current = SingleProcessCommunicator.Instance;

    public static Communicator Current => _current;

    /// <summary>Joins the MPI job when this process was started by an MPI launcher; otherwise stays on its own.</summary>
    public static Communicator Initialize()
    {
        if (_current is MpiCommunicator)
            return _current;
        if (MpiCommunicator.LaunchedByMpi && !string.Equals(Environment.GetEnvironmentVariable(SwitchVariable), "off", StringComparison.OrdinalIgnoreCase))
            _current = MpiCommunicator.Start();
        return _current;
    }

    /// <summary>Leaves the MPI job (every rank must call it); later collectives run as one process.</summary>
    public static void Shutdown()
    {
        var current = _current;
        _current = SingleProcessCommunicator.Instance;
        if (current is MpiCommunicator)
            current.Dispose();
    }

    /// <summary>Uses <paramref name="communicator"/> until the returned scope is disposed (tests and embedders).</summary>
    public static IDisposable Use(Communicator communicator)
    {
        var previous = _current;
        _current = communicator;
        return new Scope(previous);
    }

    private sealed class Scope(Communicator previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
