using System.Net;
using Microsoft.AspNetCore.Builder;

namespace RlhfSharp.Serving;

/// <summary>
/// Starting and awaiting a Kestrel app the way every server of the program does (chat, labelling,
/// dashboard): a port that cannot be bound becomes one clear error, and a running app is awaited
/// until the caller cancels or the host itself is asked to stop.
/// </summary>
public static class WebHost
{
    /// <summary>
    /// Starts <paramref name="app"/>. When it cannot listen, <paramref name="cleanUp"/> runs, the app is
    /// disposed, and a <see cref="ServeException"/> names the address and what to do.
    /// </summary>
    public static async Task StartAsync(WebApplication app, IPAddress host, int port, CancellationToken cancellationToken, Func<Task>? cleanUp = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            if (cleanUp is not null)
                await cleanUp().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ServeException(
                $"cannot listen on {host}:{port}: {e.Message} Pick another port (--port; 0 = any free port) or stop the process that holds it.", e);
        }
    }

    /// <summary>
    /// Completes when <paramref name="cancellationToken"/> is cancelled or the host is asked to stop
    /// (its console lifetime turns SIGTERM and Ctrl+C into such a request).
    /// </summary>
    public static async Task WaitForShutdownAsync(WebApplication? app, CancellationToken cancellationToken)
    {
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var byToken = cancellationToken.Register(() => requested.TrySetResult());
        using var byHost = app?.Lifetime.ApplicationStopping.Register(() => requested.TrySetResult());
        await requested.Task.ConfigureAwait(false);
    }
}
