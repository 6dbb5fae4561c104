using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Serving;

/// <summary>
/// A reward model behind OpenRLHF's remote reward protocol on Kestrel: <c>POST /get_reward</c> with
/// <c>{"query": [...], "prompts": [...], "labels": [...]}</c> answers <c>{"rewards": [...]}</c>, and
/// <c>GET /health</c> answers probes without the token. Each query is split into its prompt
/// (<c>prompts[i]</c>, which it must start with) and the response after it, and scored by
/// <see cref="RewardModelSource.ScoreRendered"/>: the prompt is read as chat-template output (its
/// added tokens are control tokens), the response as plain text. Requests are scored one at a
/// time, each in batches of the source's batch size. Every request passes the
/// <see cref="AccessGuard"/> first (the token as <c>Authorization: Bearer</c>, JSON bodies only).
/// </summary>
public sealed class RewardServer : IAsyncDisposable
{
    /// <summary>The one path answered without the access token.</summary>
    public const string HealthPath = "/health";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly RewardModelSource _model;
    private readonly RewardServerOptions _options;
    private readonly SemaphoreSlim _scoring = new(1, 1);
    private WebApplication? _app;
    private int _stopped;

    private RewardServer(RewardModelSource model, RewardServerOptions options)
    {
        _model = model;
        _options = options;
    }

    /// <summary>The address the server listens on, with the real port when it was asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Binds and begins answering; returns once the port is open.</summary>
    public static async Task<RewardServer> StartAsync(RewardModelSource model, RewardServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var server = new RewardServer(model, options);
        var app = WebHost.Build("rlhf-serve-rm", options.Access, options.Port, options.MaxRequestBytes, TimeSpan.FromSeconds(10), server.DispatchAsync);
        await WebHost.StartAsync(app, options.Host, options.Port, cancellationToken).ConfigureAwait(false);
        server._app = app;
        server.Address = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>Completes when <paramref name="cancellationToken"/> is cancelled or the host is asked to stop; then call <see cref="StopAsync"/>.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => WebHost.WaitForShutdownAsync(_app, cancellationToken);

    /// <summary>Stops listening, letting requests in flight finish.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || _app is null)
            return;
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _scoring.Dispose();
    }

    private Task DispatchAsync(HttpContext context) => JsonApi.HandleAsync(context, async () =>
    {
        string path = context.Request.Path.Value ?? "/";
        switch (path)
        {
            case HealthPath:
                JsonApi.RequireMethod(context, HttpMethods.Get);
                await JsonApi.WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["status"] = "ok" }, Json).ConfigureAwait(false);
                break;
            case RemoteRewardProtocol.Path:
                JsonApi.RequireMethod(context, HttpMethods.Post);
                await RewardAsync(context).ConfigureAwait(false);
                break;
            default:
                throw new ApiError(StatusCodes.Status404NotFound,
                    $"Unknown path {path}; this server answers POST {RemoteRewardProtocol.Path} and GET {HealthPath}.", null, "not_found");
        }
    }, _options.MaxRequestBytes, _options.ErrorLog, "The server failed to score the request", Json);

    private async Task RewardAsync(HttpContext context)
    {
        var body = await JsonApi.ReadBodyAsync(context, _options.MaxRequestBytes).ConfigureAwait(false);
        JsonApi.CheckUnicode(body.Span);
        var request = RewardRequestParser.Parse(body, _options.MaxQueries);
        double[] rewards;
        await _scoring.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            rewards = await Task.Run(() => _model.ScoreRendered(request.Prompts, request.Responses), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            _scoring.Release();
        }
        var array = new JsonArray();
        foreach (var r in rewards)
            array.Add(r);
        await JsonApi.WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["rewards"] = array }, Json).ConfigureAwait(false);
    }
}
