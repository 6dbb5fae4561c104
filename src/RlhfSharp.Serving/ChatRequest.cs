using RlhfSharp.Text.Chat;

namespace RlhfSharp.Serving;

/// <summary>A parsed <c>POST /v1/chat/completions</c> body (the fields this server honours).</summary>
/// <param name="Model">The model asked for; null when the request names none.</param>
/// <param name="Messages">The conversation, at least one turn.</param>
/// <param name="MaxTokens">max_tokens (or max_completion_tokens); null: the server's default.</param>
/// <param name="Temperature">0 = greedy; OpenAI's default is 1.</param>
/// <param name="TopP">Nucleus mass in (0, 1].</param>
/// <param name="Seed">Makes a sampled answer reproducible; null: the server's generator.</param>
/// <param name="Stop">Strings that end the answer (not included in it).</param>
/// <param name="Stream">Answer with server-sent events, one chunk per piece of text as it is drawn.</param>
/// <param name="IncludeUsage">With <paramref name="Stream"/>: a last chunk with the token counts (stream_options.include_usage).</param>
internal sealed record ChatRequest(
    string? Model,
    IReadOnlyList<ChatMessage> Messages,
    int? MaxTokens,
    float Temperature,
    float TopP,
    long? Seed,
    IReadOnlyList<string> Stop,
    bool Stream = false,
    bool IncludeUsage = false);
