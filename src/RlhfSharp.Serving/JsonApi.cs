using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Serving;

/// <summary>
/// The request plumbing <see cref="ChatServer"/> and the labelling server share: method checks,
/// size-limited body reads, JSON answers, and one place that turns every failure of a request into
/// its JSON error (4xx for what the client did, 500 for the rest).
/// </summary>
internal static class JsonApi
{
    /// <summary>
    /// Runs <paramref name="dispatch"/> and answers any failure with an <see cref="ApiError"/> body.
    /// A client that went away gets nothing; an unexpected exception is logged and answered with
    /// 500 and <paramref name="failure"/> in front of its message.
    /// </summary>
    public static async Task HandleAsync(HttpContext context, Func<Task> dispatch, int maxRequestBytes, TextWriter? errorLog, string failure, JsonSerializerOptions? json)
    {
        try
        {
            await dispatch().ConfigureAwait(false);
        }
        catch (ApiError e)
        {
            await WriteErrorAsync(context, e, json).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(context, TooLarge(maxRequestBytes), json).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, new ApiError(e.StatusCode, $"Bad request: {e.Message}", null, "bad_request"), json).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception e)
        {
            errorLog?.WriteLine($"error: {context.Request.Method} {context.Request.Path}: {e}");
            await WriteErrorAsync(context, new ApiError(StatusCodes.Status500InternalServerError,
                $"{failure}: {e.GetType().Name}: {e.Message}", null, "internal_error", "server_error"), json).ConfigureAwait(false);
        }
    }

    public static void RequireMethod(HttpContext context, string method)
    {
        if (HttpMethods.Equals(context.Request.Method, method))
            return;
        context.Response.Headers.Allow = method;
        throw new ApiError(StatusCodes.Status405MethodNotAllowed,
            $"{context.Request.Method} is not allowed on {context.Request.Path}; use {method}.", null, "method_not_allowed");
    }

    public static ApiError TooLarge(int maxRequestBytes) => new(StatusCodes.Status413PayloadTooLarge,
        $"The request body is over this server's limit of {maxRequestBytes} bytes (max_request_bytes).", null, "request_too_large");

    /// <summary>The body, refused with 413 as soon as it is known to be over <paramref name="limit"/> bytes.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context, int limit)
    {
        if (context.Request.ContentLength > limit)
            throw TooLarge(limit);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
                throw TooLarge(limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>
    /// Refuses, with a 400 <c>invalid_unicode</c> that names the field, a body whose strings or keys
    /// are not valid Unicode: bytes that are not UTF-8, or a surrogate escape (<c>\ud800</c>) without
    /// its pair. Such text has no string value, so reading the field later would fail. A body that
    /// is not JSON at all is left to the parser, which says what is wrong with it.
    /// </summary>
    public static void CheckUnicode(ReadOnlySpan<byte> body)
    {
        if (JsonUnicode.Find(body) is null)
            return;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return; // not JSON: the parser that reads the body next reports it
        }
        using (document)
        {
            if (JsonUnicode.PathOfInvalid(document.RootElement) is not { } found)
                return;
            bool key = found.StartsWith(JsonUnicode.KeyPrefix, StringComparison.Ordinal);
            string path = key ? found[JsonUnicode.KeyPrefix.Length..] : found;
            string? param = path == JsonUnicode.Root ? null : path;
            string where = key ? $"{JsonUnicode.KeyPrefix}{param ?? "the body"}" : param ?? "the body";
            throw new ApiError(StatusCodes.Status400BadRequest,
                $"{where} is not valid Unicode text; send UTF-8, with \\u surrogate escapes only in high-low pairs.",
                param, "invalid_unicode");
        }
    }

    public static Task WriteErrorAsync(HttpContext context, ApiError error, JsonSerializerOptions? json)
    {
        if (context.Response.HasStarted)
            return Task.CompletedTask;
        // A body refused unread leaves the connection unusable: Kestrel closes it after the answer,
        // and the header says so, so that the client does not send its next request down it.
        if (error.Code is "request_too_large" or "bad_request")
            context.Response.Headers.Connection = "close";
        return WriteJsonAsync(context, error.Status, error.ToJson(), json);
    }

    /// <param name="json">Serializer options (the encoder); null = the default, which escapes &lt;, &gt; and &amp;.</param>
    public static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body, JsonSerializerOptions? json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(json), context.RequestAborted).ConfigureAwait(false);
    }
}
