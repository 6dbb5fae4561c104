using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Serving;

/// <summary>
/// A chat completion answered as server-sent events in OpenAI's chunk format (<c>stream: true</c>):
/// a first <c>chat.completion.chunk</c> whose delta holds the role, one chunk per piece of text as
/// the worker draws it, a last chunk with the <c>finish_reason</c> (then, with
/// <c>stream_options.include_usage</c>, one with the token counts and no choices), and
/// <c>data: [DONE]</c>. A failure after the first chunk is sent as an event holding OpenAI's error
/// object. A client that goes away cancels its generation.
/// </summary>
internal static class ChatStream
{
    public static async Task WriteAsync(HttpContext context, BatchWorker worker, int[] promptIds, SamplingSettings sampling,
        ChatRequest request, string modelName, JsonSerializerOptions json)
    {
        var aborted = context.RequestAborted;
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var answer = worker.Submit(promptIds, sampling, request.Seed, aborted, piece => pieces.Writer.TryWrite(piece));
        _ = answer.ContinueWith(_ => pieces.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        JsonObject Chunk(JsonObject delta, string? finishReason) => new()
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = modelName,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = delta,
                ["finish_reason"] = finishReason,
            }),
        };

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers["X-Accel-Buffering"] = "no";
        await SendAsync(response, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null).ToJsonString(json), aborted).ConfigureAwait(false);
        await foreach (string piece in pieces.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
            await SendAsync(response, Chunk(new JsonObject { ["content"] = piece }, null).ToJsonString(json), aborted).ConfigureAwait(false);

        Completion completion;
        try
        {
            completion = await answer.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var error = e as ApiError ?? new ApiError(StatusCodes.Status500InternalServerError,
                $"The server failed to answer: {e.GetType().Name}: {e.Message}", null, "internal_error", "server_error");
            await SendAsync(response, error.ToJson().ToJsonString(json), aborted).ConfigureAwait(false);
            await SendAsync(response, "[DONE]", aborted).ConfigureAwait(false);
            return;
        }
        await SendAsync(response, Chunk([], completion.FinishReason).ToJsonString(json), aborted).ConfigureAwait(false);
        if (request.IncludeUsage)
        {
            var usage = Chunk([], null);
            usage["choices"] = new JsonArray();
            usage["usage"] = new JsonObject
            {
                ["prompt_tokens"] = completion.PromptTokens,
                ["completion_tokens"] = completion.CompletionTokens,
                ["total_tokens"] = completion.PromptTokens + completion.CompletionTokens,
            };
            await SendAsync(response, usage.ToJsonString(json), aborted).ConfigureAwait(false);
        }
        await SendAsync(response, "[DONE]", aborted).ConfigureAwait(false);
    }

    // One event, flushed at once so that the client sees it now.
    private static async Task SendAsync(HttpResponse response, string data, CancellationToken aborted)
    {
        await response.WriteAsync($"data: {data}\n\n", aborted).ConfigureAwait(false);
        await response.Body.FlushAsync(aborted).ConfigureAwait(false);
    }
}
