using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RlhfSharp.Serving;

/// <summary>
/// Building, starting and awaiting a Kestrel app the way every server of the program does (chat,
/// labelling, dashboard): every request passes the <see cref="AccessGuard"/> first, a port that
/// cannot be bound becomes one clear error, and a running app is awaited until the caller cancels
/// or the host itself is asked to stop.
/// </summary>
public static class WebHost
{
    /// <summary>
    /// A Kestrel app listening on <paramref name="access"/>'s host and <paramref name="port"/> that
    /// answers with <paramref name="dispatch"/> the requests <paramref name="access"/> lets through.
    /// Throws a <see cref="ServeException"/> for a non-loopback host the user did not allow.
    /// </summary>
    /// <param name="maxRequestBytes">Largest request body; null = Kestrel's default.</param>
    public static WebApplication Build(string applicationName, ServerAccess access, int port, long? maxRequestBytes, TimeSpan shutdownTimeout, RequestDelegate dispatch)
    {
        ArgumentNullException.ThrowIfNull(access);
        access.Validate();
        // The empty builder reads no appsettings or ASPNETCORE_* variables and logs nothing: the
        // address and limits below are the whole configuration.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = applicationName });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            if (maxRequestBytes is { } max)
                k.Limits.MaxRequestBodySize = max;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.MaxRequestLineSize = 8 * 1024;
            k.Listen(access.Host, port);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        var app = builder.Build();
        app.Use(AccessGuard.For(access));
        app.Run(dispatch);
        return app;
    }

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
