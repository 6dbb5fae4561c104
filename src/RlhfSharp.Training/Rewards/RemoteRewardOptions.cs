namespace RlhfSharp.Training.Rewards;

/// <summary>How <see cref="RemoteRewardSource"/> talks to its server.</summary>
public sealed record RemoteRewardOptions
{
    /// <summary>The absolute http(s) URL requests are POSTed to (OpenRLHF's path is /get_reward).</summary>
    public required Uri Url { get; init; }

    /// <summary>The most (prompt, response) pairs sent in one request.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How long one request may take before it counts as failed (and is retried).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times a failed request is sent again (connection errors, 5xx, timeouts; never 4xx).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>The wait before the first retry; each further retry waits twice as long.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Sent as <c>Authorization: Bearer</c> when set.</summary>
    public string? Token { get; init; }

    /// <summary>The prompt row's field sent as its label; null: <c>label</c>, else <c>answer</c>.</summary>
    public string? LabelField { get; init; }

    /// <summary>The name metrics are logged under.</summary>
    public string Name { get; init; } = "remote";

    /// <summary>What is wrong with these options, one message each.</summary>
    public IEnumerable<string> Errors()
    {
        if (!Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps))
            yield return $"the reward server URL must be an absolute http:// or https:// URL, got '{Url}'";
        if (BatchSize <= 0)
            yield return $"the batch size must be positive, got {BatchSize}";
        if (Timeout <= TimeSpan.Zero)
            yield return $"the timeout must be positive, got {Timeout}";
        if (Retries < 0)
            yield return $"retries must be >= 0, got {Retries}";
        if (Backoff < TimeSpan.Zero)
            yield return $"the backoff must be >= 0, got {Backoff}";
    }
}
