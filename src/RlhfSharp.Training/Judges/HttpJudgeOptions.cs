using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Judges;

/// <summary>Where and how an <see cref="HttpJudge"/> asks an OpenAI-compatible server.</summary>
public sealed record HttpJudgeOptions
{
    /// <summary>
    /// The server: <c>http://127.0.0.1:8000</c> or, as OpenAI clients write it, <c>.../v1</c>;
    /// requests go to <c>/v1/chat/completions</c> under it.
    /// </summary>
    public required string BaseUrl { get; init; }

    /// <summary>The model name sent with every request.</summary>
    public required string Model { get; init; }

    /// <summary>
    /// Name of the environment variable that holds the API key, sent as <c>Authorization: Bearer</c>;
    /// null: no key. The key itself is never stored in options, logs or exception messages.
    /// </summary>
    public string? ApiKeyEnvironmentVariable { get; init; }

    /// <summary>Limit for one request, connecting and reading the whole answer included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of a transient failure (unreachable, timeout, HTTP 5xx or 429) after the first attempt.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Wait before the first retry; each further retry waits twice as long as the one before.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>max_tokens of the judge's answer (the verdict is its first standalone A or B).</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Requests in flight at once (each item takes two: both orders).</summary>
    public int MaxConcurrency { get; init; } = 8;

    internal void Validate()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new TrainingSetupException($"HTTP judge: base URL '{BaseUrl}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:8000/v1");
        if (string.IsNullOrWhiteSpace(Model))
            throw new TrainingSetupException("HTTP judge: a model name is required");
        if (Timeout <= TimeSpan.Zero || RetryBaseDelay < TimeSpan.Zero || MaxRetries < 0 || MaxTokens < 1 || MaxConcurrency < 1)
            throw new TrainingSetupException("HTTP judge: timeout must be positive, retry delay and max retries >= 0, max tokens and concurrency >= 1");
    }
}
