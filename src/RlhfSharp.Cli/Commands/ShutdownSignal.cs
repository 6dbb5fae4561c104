using System.Runtime.InteropServices;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// SIGTERM and Ctrl+C (SIGINT) turned into a cancellation for the verbs that serve until told to stop,
/// so they shut down cleanly (requests in flight finish, files are flushed) instead of being killed.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;

    public ShutdownSignal()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    /// <summary>Cancelled when either signal arrives.</summary>
    public CancellationToken Token => _stop.Token;

    private void OnSignal(PosixSignalContext signal)
    {
        signal.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _term.Dispose();
        _stop.Dispose();
    }
}
