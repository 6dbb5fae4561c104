using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
/// With an access token every request, the page and unknown paths included, must carry it
/// (<c>Authorization: Bearer</c>, the cookie the page sets, or <c>?token=</c>) or gets 401. Without
/// one (loopback only) requests must name a loopback host, which stops other web sites reaching the
/// server through DNS rebinding. POST bodies must be JSON (415 otherwise, so a plain HTML form on
/// another site cannot post) and at most <see cref="LabelServerOptions.MaxRequestBytes"/> (413).
/// Refusals are <c>{"error": {"message", "type", "param", "code"}}</c>.
/// </summary>
public sealed partial class LabelServer : IAsyncDisposable
{
    public const string CookieName = "rlhf_label_token";

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
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "rlhf-label" });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = _options.MaxRequestBytes;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.MaxRequestLineSize = 8 * 1024;
            k.Listen(_options.Host, _options.Port);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var app = builder.Build();
        app.Run(DispatchAsync);
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

    private Task DispatchAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        return JsonApi.HandleAsync(context, async () =>
        {
            Authorize(context);
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
    }

    private void Authorize(HttpContext context)
    {
        if (_options.Token is not { } token)
        {
            string host = context.Request.Host.Host;
            bool loopbackName = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
            if (!loopbackName)
                throw new ApiError(StatusCodes.Status403Forbidden,
                    $"This server only answers requests addressed to a loopback host, not '{host}'; open it as http://127.0.0.1:PORT/.", null, "forbidden_host");
            return;
        }
        var request = context.Request;
        string? bearer = request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..].Trim() : null;
        string? fromQuery = request.Query.TryGetValue("token", out var q) ? q.ToString() : null;
        string? fromCookie = request.Cookies.TryGetValue(CookieName, out var c) ? c : null;
        if (AccessToken.Matches(token, bearer) || AccessToken.Matches(token, fromCookie))
            return;
        if (AccessToken.Matches(token, fromQuery))
        {
            // The link printed at start carries the token; the cookie keeps it for the page's own requests.
            context.Response.Cookies.Append(CookieName, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
            return;
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        throw new ApiError(StatusCodes.Status401Unauthorized,
            "This server needs its access token (printed by `rlhf label` at start): open the printed link with ?token=..., or send Authorization: Bearer TOKEN.",
            null, "unauthorized");
    }

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

    private async Task<ReadOnlyMemory<byte>> ReadJsonBodyAsync(HttpContext context)
    {
        var type = context.Request.ContentType;
        if (type is null || !type.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON with Content-Type: application/json.", null, "unsupported_media_type");
        return await JsonApi.ReadBodyAsync(context, _options.MaxRequestBytes).ConfigureAwait(false);
    }

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
        string script = Hash(ScriptBlock().Match(html));
        string style = Hash(StyleBlock().Match(html));
        string csp = $"default-src 'none'; script-src '{script}'; style-src '{style}'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (html, csp);
    }

    private static string Hash(Match block)
    {
        if (!block.Success)
            throw new InvalidOperationException("the labelling page has no inline script or style block");
        return "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(block.Groups[1].Value)));
    }

    [GeneratedRegex(@"<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptBlock();

    [GeneratedRegex(@"<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleBlock();
}
