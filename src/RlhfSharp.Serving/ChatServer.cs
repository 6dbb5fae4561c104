using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Serving;

/// <summary>
/// An OpenAI-compatible HTTP server for one <see cref="ChatModel"/> on Kestrel:
/// <c>GET /v1/models</c> and <c>POST /v1/chat/completions</c>, and <c>GET /health</c> for probes.
/// Requests are parsed and checked on Kestrel's threads and generated in batches by a single
/// <see cref="BatchWorker"/>. Every request passes the <see cref="AccessGuard"/> first (the access
/// token as <c>Authorization: Bearer</c>, which is how OpenAI clients send their API key; a Host
/// header naming this server; no foreign Origin; JSON bodies only). <c>/health</c> needs no token:
/// probes and start-up scripts have none, and it tells nothing but that the server answers. Every
/// refusal is OpenAI's JSON error object: 400 for a malformed body or bad field, 401 without the
/// token, 403 for a foreign Host or Origin, 404 for an unknown path or model, 405 for a wrong method,
/// 413 for a body over the byte limit or a prompt that leaves no room for max_tokens in the model's
/// positions, 415 for a body that is not JSON. With <c>stream: true</c> the answer comes as
/// server-sent events (<see cref="ChatStream"/>); a client that goes away, streaming or not, stops
/// its generation.
/// </summary>
public sealed class ChatServer : IAsyncDisposable
{
    /// <summary>The one path answered without the access token.</summary>
    public const string HealthPath = "/health";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ChatModel _model;
    private readonly ChatServerOptions _options;
    private readonly BatchWorker _worker;
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly TaskCompletionSource _stoppedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private int _stopped;

    private ChatServer(ChatModel model, ChatServerOptions options)
    {
        _model = model;
        _options = options;
        _worker = new BatchWorker(model, options.MaxBatch, options.Seed, options.BatchLog);
    }

    /// <summary>The address the server listens on, with the real port when it was asked for port 0.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Completes when the server has stopped (after <see cref="StopAsync"/>).</summary>
    public Task Stopped => _stoppedSource.Task;

    /// <summary>Binds, starts the worker and begins answering; returns once the port is open.</summary>
    public static async Task<ChatServer> StartAsync(ChatModel model, ChatServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var server = new ChatServer(model, options);
        await server.StartCoreAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var app = WebHost.Build("rlhf-serve", _options.Access, _options.Port, _options.MaxRequestBytes, TimeSpan.FromSeconds(10), DispatchAsync);
        _worker.Start();
        await WebHost.StartAsync(app, _options.Host, _options.Port, cancellationToken, _worker.StopAsync).ConfigureAwait(false);
        _app = app;
        Address = new Uri(app.Urls.First());
    }

    /// <summary>
    /// Completes when <paramref name="cancellationToken"/> is cancelled or the host is asked to stop
    /// (its console lifetime turns SIGTERM and Ctrl+C into such a request); then call <see cref="StopAsync"/>.
    /// </summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => WebHost.WaitForShutdownAsync(_app, cancellationToken);

    /// <summary>Stops listening (letting requests in flight finish), then stops the worker.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            await Stopped.ConfigureAwait(false);
            return;
        }
        try
        {
            if (_app is not null)
                await _app.StopAsync(cancellationToken).ConfigureAwait(false);
            await _worker.StopAsync().ConfigureAwait(false);
            if (_app is not null)
                await _app.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _stoppedSource.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private Task DispatchAsync(HttpContext context) => JsonApi.HandleAsync(context, async () =>
    {
        string path = context.Request.Path.Value ?? "/";
        switch (path)
        {
            case HealthPath:
                RequireMethod(context, HttpMethods.Get);
                await WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["status"] = "ok" }).ConfigureAwait(false);
                break;
            case "/v1/models":
                RequireMethod(context, HttpMethods.Get);
                await WriteJsonAsync(context, StatusCodes.Status200OK, ModelList()).ConfigureAwait(false);
                break;
            case "/v1/chat/completions":
                RequireMethod(context, HttpMethods.Post);
                await ChatCompletionAsync(context).ConfigureAwait(false);
                break;
            default:
                throw new ApiError(StatusCodes.Status404NotFound,
                    $"Unknown path {path}; this server answers GET /v1/models, POST /v1/chat/completions and GET /health.", null, "not_found");
        }
    }, _options.MaxRequestBytes, _options.ErrorLog, "The server failed to answer", Json);

    private async Task ChatCompletionAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var request = ChatRequestParser.Parse(body);
        if (request.Model is { } asked && asked != _model.Name)
            throw new ApiError(StatusCodes.Status404NotFound, $"The model '{asked}' does not exist; this server serves '{_model.Name}'.", "model", "model_not_found");
        var promptIds = _model.EncodePrompt(request.Messages);
        int room = _model.MaxPositions - promptIds.Length;
        int maxTokens = request.MaxTokens ?? Math.Min(_options.DefaultMaxTokens, room);
        if (maxTokens < 1 || maxTokens > room)
        {
            string need = request.MaxTokens is null ? "which leaves no room for a response" : $"plus max_tokens {maxTokens} is more than that";
            throw new ApiError(StatusCodes.Status413PayloadTooLarge,
                $"The messages render to {promptIds.Length} tokens, {need}: the model has {_model.MaxPositions} positions. Shorten the messages or lower max_tokens.",
                "messages", "context_length_exceeded");
        }
        var sampling = new SamplingSettings(maxTokens, request.Temperature, request.TopP, request.Stop);
        if (request.Stream)
        {
            await ChatStream.WriteAsync(context, _worker, promptIds, sampling, request, _model.Name, Json).ConfigureAwait(false);
            return;
        }
        var completion = await _worker.Submit(promptIds, sampling, request.Seed, context.RequestAborted).ConfigureAwait(false);
        var answer = new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = _model.Name,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = completion.Text },
                ["finish_reason"] = completion.FinishReason,
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = completion.PromptTokens,
                ["completion_tokens"] = completion.CompletionTokens,
                ["total_tokens"] = completion.PromptTokens + completion.CompletionTokens,
            },
        };
        await WriteJsonAsync(context, StatusCodes.Status200OK, answer).ConfigureAwait(false);
    }

    private JsonObject ModelList() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject
        {
            ["id"] = _model.Name,
            ["object"] = "model",
            ["created"] = _created,
            ["owned_by"] = "rlhfsharp",
        }),
    };

    private Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context) => JsonApi.ReadBodyAsync(context, _options.MaxRequestBytes);

    private static void RequireMethod(HttpContext context, string method) => JsonApi.RequireMethod(context, method);

    private static Task WriteJsonAsync(HttpContext context, int status, JsonObject body) => JsonApi.WriteJsonAsync(context, status, body, Json);
}
