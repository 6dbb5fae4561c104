using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RlhfSharp.Serving;

namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// <c>rlhf dashboard</c>'s web server (Kestrel): <c>GET /</c> is the run's report with a small
/// script, and <c>GET /api/report?since=V</c> answers <c>{"version": V', "body": "..."}</c>, the
/// current report body when the run's files changed since version V (else no body), or
/// <c>{"version": V, "error": "..."}</c> when a file cannot be read. The files are looked at on
/// each request (length and write time of every metrics, samples, summary and results file) and
/// read again only when they changed, so a page polling once a second costs a directory listing.
/// Every request passes the <see cref="ServerAccess"/> checks first (the token, as the cookie that
/// opening the printed <c>/?token=</c> link sets, or as <c>Authorization: Bearer</c>; the Host and
/// Origin), and the page runs only its own script (a hash-pinned Content-Security-Policy).
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>The page's token cookie is this and the port: <c>rlhf_dashboard_token_8050</c>.</summary>
    public const string CookiePrefix = "rlhf_dashboard_token";

    // Only what JSON requires is escaped: the body is HTML, and \u003C for every '<' would double its size.
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _runDir;
    private readonly ReportOptions _options;
    private readonly object _gate = new();
    private WebApplication? _app;
    private string? _stamp;
    private RunData _run = null!;
    private string _body = "";
    private string? _error;
    private long _version;

    private DashboardServer(string runDir, ReportOptions options)
    {
        _runDir = Path.GetFullPath(runDir);
        _options = options;
    }

    /// <summary>The address the server listens on, with the real port when it was asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Reads the run folder (its files must be readable now), binds and starts answering.</summary>
    public static async Task<DashboardServer> StartAsync(string runDir, ServerAccess access, int port, ReportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(access);
        var server = new DashboardServer(runDir, options);
        server.Refresh(throwOnError: true);
        // The dashboard reads no request body: a small limit costs nothing.
        var app = WebHost.Build("rlhf-dashboard", access, port, 16 * 1024, TimeSpan.FromSeconds(5), server.DispatchAsync);
        await WebHost.StartAsync(app, access.Host, port, cancellationToken).ConfigureAwait(false);
        server._app = app;
        server.Address = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>Completes when <paramref name="cancellationToken"/> is cancelled or the host is asked to stop.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => WebHost.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Reads the run again when its files changed; a file that cannot be read is reported as the current error.
    private (long Version, RunData Run, string Body, string? Error) Refresh(bool throwOnError = false)
    {
        lock (_gate)
        {
            string stamp = RunData.Stamp(_runDir);
            if (stamp != _stamp)
            {
                try
                {
                    var run = RunData.Load(_runDir, allowEmpty: true);
                    _body = ReportPage.RenderBody(run, _options);
                    _run = run;
                    _error = null;
                    _version++;
                }
                catch (ReportInputException e) when (!throwOnError)
                {
                    _error = e.Message;
                }
                _stamp = stamp;
            }
            return (_version, _run, _body, _error);
        }
    }

    private async Task DispatchAsync(HttpContext context)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            await Text(response, StatusCodes.Status405MethodNotAllowed, "text/plain", "Only GET is answered here.\n").ConfigureAwait(false);
            return;
        }
        switch (context.Request.Path.Value)
        {
            case "/":
                await PageAsync(response).ConfigureAwait(false);
                break;
            case "/api/report":
                await ReportAsync(response, context.Request.Query["since"]).ConfigureAwait(false);
                break;
            case "/favicon.ico":
                response.StatusCode = StatusCodes.Status204NoContent;
                break;
            default:
                await Text(response, StatusCodes.Status404NotFound, "text/plain", "Not found; the dashboard answers / and /api/report.\n").ConfigureAwait(false);
                break;
        }
    }

    // The whole page, with the script that keeps it current.
    private Task PageAsync(HttpResponse response)
    {
        var (version, run, _, _) = Refresh();
        var page = ReportPage.Render(run, _options with { Live = true, Version = version });
        response.Headers.ContentSecurityPolicy = PagePolicy.For(page);
        return Text(response, StatusCodes.Status200OK, "text/html; charset=utf-8", page);
    }

    // The current version, with the body when the page has another one, or the error that stops a refresh.
    private Task ReportAsync(HttpResponse response, string? since)
    {
        var (version, _, body, error) = Refresh();
        var answer = new JsonObject { ["version"] = version };
        if (error is not null)
            answer["error"] = error;
        else if (!long.TryParse(since, out long known) || known != version)
            answer["body"] = body;
        return Text(response, StatusCodes.Status200OK, "application/json; charset=utf-8", answer.ToJsonString(Json));
    }

    private static Task Text(HttpResponse response, int status, string contentType, string text)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        return response.WriteAsync(text, Encoding.UTF8);
    }
}
