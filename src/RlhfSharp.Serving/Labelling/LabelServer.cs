using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Serving.Labelling;

/// <summary>
/// The web side of <c>rlhf label --judge human</c> on Kestrel: the labelling page and its JSON API
/// over one <see cref="LabellingSession"/>.
/// <list type="bullet">
/// <item><c>GET /</c>: the page (self-contained HTML; model text is only ever set as text).</item>
/// <item><c>GET /api/next?labeller=NAME</c>: the pair to show, or "waiting"/"done", with progress.</item>
/// <item><c>POST /api/label</c>: <c>{"labeller", "item", "left", "choice", "ratings", "note", "seconds"}</c>;
/// answered once the label is on disk; 409 <c>already_labelled</c> when it was saved before.</item>
/// <item><c>POST /api/undo</c>: <c>{"labeller"}</c>: removes their latest label and shows its pair again.</item>
/// <item><c>GET /api/progress?labeller=NAME</c>.</item>
/// </list>
/// Every request passes the <see cref="AccessGuard"/> first. With an access token every request, the
/// page and unknown paths included, must carry it (<c>Authorization: Bearer</c>, the cookie the page
/// sets, or <c>?token=</c>) or gets 401. With or without one, requests must name this server's host
/// (a loopback one on loopback), which stops other web sites reaching the server through DNS
/// rebinding, and must not come from another origin. POST bodies must be JSON (415 otherwise, so a
/// plain HTML form on another site cannot post) and at most <see cref="LabelServerOptions.MaxRequestBytes"/> (413).
/// Refusals are <c>{"error": {"message", "type", "param", "code"}}</c>.
/// </summary>
public sealed class LabelServer : IAsyncDisposable
{
    /// <summary>The page's token cookie is this and the port: <c>rlhf_label_token_8700</c>.</summary>
    public const string CookiePrefix = "rlhf_label_token";

    private static readonly Lazy<(string Html, string Csp)> Page = new(LoadPage);

    private readonly LabellingSession _session;
    private readonly LabelServerOptions _options;
    private readonly TaskCompletionSource _stoppedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private int _stopped;

    private LabelServer(LabellingSession session, LabelServerOptions options)
    {
        _session = session;
        _options = options;
    }

    /// <summary>The address the server listens on, with the real port when it was asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    public static async Task<LabelServer> StartAsync(LabellingSession session, LabelServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var server = new LabelServer(session, options);
        await server.StartCoreAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var access = new ServerAccess
        {
            Host = _options.Host,
            AllowRemote = _options.AllowRemote,
            Token = _options.Token,
            Cookie = CookiePrefix,
            TokenHint = "printed by `rlhf label` at start",
        };
        var app = WebHost.Build("rlhf-label", access, _options.Port, _options.MaxRequestBytes, TimeSpan.FromSeconds(10), DispatchAsync);
        await WebHost.StartAsync(app, _options.Host, _options.Port, cancellationToken).ConfigureAwait(false);
        _app = app;
        Address = new Uri(app.Urls.First());
    }

    /// <summary>Completes when <paramref name="cancellationToken"/> is cancelled or the host is asked to stop.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => WebHost.WaitForShutdownAsync(_app, cancellationToken);

    /// <summary>Stops listening, letting requests in flight finish (a label being saved is saved).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            await _stoppedSource.Task.ConfigureAwait(false);
            return;
        }
        try
        {
            if (_app is not null)
            {
                await _app.StopAsync(cancellationToken).ConfigureAwait(false);
                await _app.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _stoppedSource.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private Task DispatchAsync(HttpContext context) =>
        JsonApi.HandleAsync(context, async () =>
        {
            string path = context.Request.Path.Value ?? "/";
            switch (path)
            {
                case "/":
                    RequireMethod(context, HttpMethods.Get);
                    await WritePageAsync(context).ConfigureAwait(false);
                    break;
                case "/favicon.ico":
                    RequireMethod(context, HttpMethods.Get);
                    context.Response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                case "/api/next":
                    RequireMethod(context, HttpMethods.Get);
                    await WriteJsonAsync(context, 200, LabelRequests.Next(_session.Next(QueryLabeller(context)))).ConfigureAwait(false);
                    break;
                case "/api/progress":
                    RequireMethod(context, HttpMethods.Get);
                    await WriteJsonAsync(context, 200, new JsonObject { ["progress"] = LabelRequests.Progress(_session.ProgressOf(QueryLabeller(context))) }).ConfigureAwait(false);
                    break;
                case "/api/label":
                    RequireMethod(context, HttpMethods.Post);
                    await LabelAsync(context).ConfigureAwait(false);
                    break;
                case "/api/undo":
                    RequireMethod(context, HttpMethods.Post);
                    await UndoAsync(context).ConfigureAwait(false);
                    break;
                default:
                    throw new ApiError(StatusCodes.Status404NotFound,
                        $"Unknown path {path}; this server answers GET /, GET /api/next, GET /api/progress, POST /api/label and POST /api/undo.", null, "not_found");
            }
        }, _options.MaxRequestBytes, _options.ErrorLog, "The server failed to answer (the label was not saved)", null);

    private static string QueryLabeller(HttpContext context) =>
        LabelRequests.CheckLabeller(context.Request.Query.TryGetValue("labeller", out var v) ? v.ToString() : null, "labeller");

    private void CheckAllowed(string labeller)
    {
        if (!_session.IsAllowed(labeller))
            throw new ApiError(StatusCodes.Status403Forbidden, $"'{labeller}' is not on this session's list of labellers (config key labellers).", "labeller", "labeller_not_allowed");
    }

    private async Task LabelAsync(HttpContext context)
    {
        var submission = LabelRequests.ParseLabel(await ReadJsonBodyAsync(context).ConfigureAwait(false));
        CheckAllowed(submission.Labeller);
        var result = _session.Submit(submission);
        switch (result.Outcome)
        {
            case SubmitOutcome.UnknownItem:
                throw new ApiError(StatusCodes.Status404NotFound, $"There is no pair '{submission.ItemId}' in this session; reload the page.", "item", "unknown_item");
            case SubmitOutcome.AlreadyLabelled:
                throw new ApiError(StatusCodes.Status409Conflict, $"{submission.Labeller} has already labelled this pair; the saved label stands (undo it to change it).", "item", "already_labelled");
            default:
                await WriteJsonAsync(context, 200, new JsonObject { ["saved"] = true, ["progress"] = LabelRequests.Progress(result.Progress) }).ConfigureAwait(false);
                break;
        }
    }

    private async Task UndoAsync(HttpContext context)
    {
        var labeller = LabelRequests.ParseUndo(await ReadJsonBodyAsync(context).ConfigureAwait(false));
        CheckAllowed(labeller);
        var result = _session.Undo(labeller)
            ?? throw new ApiError(StatusCodes.Status409Conflict, $"{labeller} has no label to undo.", "labeller", "nothing_to_undo");
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["undone"] = new JsonObject { ["item"] = result.Undone.ItemId, ["choice"] = LabelNames.Name(result.Undone.Choice) },
            ["state"] = result.View is null ? "gone" : "item",
            ["item"] = result.View is null ? null : LabelRequests.Item(result.View),
            ["progress"] = LabelRequests.Progress(result.Progress),
        }).ConfigureAwait(false);
    }

    // The AccessGuard has seen to it that the body is declared JSON.
    private Task<ReadOnlyMemory<byte>> ReadJsonBodyAsync(HttpContext context) => JsonApi.ReadBodyAsync(context, _options.MaxRequestBytes);

    private static void RequireMethod(HttpContext context, string method) => JsonApi.RequireMethod(context, method);

    private static async Task WritePageAsync(HttpContext context)
    {
        var (html, csp) = Page.Value;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = csp;
        await context.Response.WriteAsync(html, context.RequestAborted).ConfigureAwait(false);
    }

    // The default encoder writes <, > and & as \u escapes, so no model text reaches the wire as markup.
    private static Task WriteJsonAsync(HttpContext context, int status, JsonObject body) => JsonApi.WriteJsonAsync(context, status, body, null);

    /// <summary>
    /// The page, and a Content-Security-Policy that lets only its own inline script and style run
    /// (by their SHA-256), connect only to this server, and load nothing else: a second wall behind
    /// setting model text with textContent.
    /// </summary>
    private static (string Html, string Csp) LoadPage()
    {
        using var stream = typeof(LabelServer).Assembly.GetManifestResourceStream("RlhfSharp.Serving.Labelling.LabelPage.html")
            ?? throw new InvalidOperationException("the labelling page is missing from the assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string html = reader.ReadToEnd();
        if (!html.Contains("<script>", StringComparison.Ordinal) || !html.Contains("<style>", StringComparison.Ordinal))
            throw new InvalidOperationException("the labelling page has no inline script or style block");
        return (html, PagePolicy.For(html));
    }
}
